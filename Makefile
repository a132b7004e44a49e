# The README's set-up commands: `make demo` runs the main job, `make test vm-test` the tests.
.PHONY: deps demo test vm-test bench fuzz

deps:
	@Scripts/install-deps.sh

demo: deps
	swift build --product conary
	Scripts/demo.sh

test: deps
	swift build --build-tests
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
