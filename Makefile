# The README's set-up commands: `make demo` runs the main job, `make test` the test suite.
.PHONY: deps demo test bench fuzz

deps:
	@Scripts/install-deps.sh

demo: deps
	swift build --product conary
	Scripts/demo.sh

test: deps
	swift build --build-tests
	swift test --disable-swift-testing

bench: deps
	Scripts/bench.sh

fuzz: deps
	Scripts/fuzz.sh
