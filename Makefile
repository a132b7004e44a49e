# The README's set-up commands: `make demo` runs the main job, `make test vm-test` the tests.
.PHONY: deps demo test vm-test bench fuzz

deps:
	@Scripts/install-deps.sh

demo: deps
	swift build --product conary
	Scripts/demo.sh

# The layer check and its self-test, the pure layers' tests as an unprivileged user, then
# every test as root.
test: deps
	Scripts/check-layers.py
	Scripts/test-check-layers.sh
	swift build --build-tests
	Scripts/unit-tests-unprivileged.sh
	swift test --disable-swift-testing

# Boots a real Debian system kept in Conary states under qemu (Tests/VM/run.sh; a few minutes).
vm-test: deps
	Scripts/install-deps.sh --vm
	swift build --product conary
	Tests/VM/run.sh

bench: deps
	Scripts/bench.sh

fuzz: deps
	Scripts/fuzz.sh
