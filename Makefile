# The two set-up commands of the README.
.PHONY: demo test bench

demo:
	swift build --product conary
	Scripts/demo.sh

test:
	swift build --build-tests
	swift test

bench:
	Scripts/bench.sh
