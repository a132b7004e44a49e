# The README's set-up commands: `make demo` runs the main job, `make test vm-test` the tests,
# `make install` puts conary on this system (below).
.PHONY: deps demo test vm-test bench fuzz release install uninstall

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

# make install [PREFIX=/usr/local] [DESTDIR=] [BINARY=path]: the release binary in
# PREFIX/bin, its man page and its bash, zsh and fish completions (generated from the binary:
# ArgumentParser's generate-manual, Scripts/generate-manual.sh, and
# `conary --generate-completion-script`) under PREFIX/share, boot/README.md in
# PREFIX/share/doc/conary; the dracut module and the unit that marks a booted state good
# (its ExecStart pointed at PREFIX/bin/conary) where dracut and systemd look, in /usr/lib
# whatever PREFIX is. BINARY installs a binary built already (the tests pass
# .build/debug/conary) instead of building the release one. Each directory has its own
# variable below (SYSTEMDUNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd) follows
# the distribution's answer). `make uninstall` with the same variables removes those files.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/conary
BASHCOMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPLETIONDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPLETIONDIR ?= $(PREFIX)/share/fish/vendor_completions.d
DRACUTMODULEDIR ?= /usr/lib/dracut/modules.d
SYSTEMDUNITDIR ?= /usr/lib/systemd/system
BINARY ?=
conary_binary = $(or $(BINARY),.build/release/conary)
generated = .build/install

release: deps
	swift build -c release --product conary

install: $(if $(BINARY),,release)
	rm -rf $(generated) && mkdir -p $(generated)
	Scripts/generate-manual.sh $(conary_binary) $(generated)
	for shell in bash zsh fish; do \
	    $(conary_binary) --generate-completion-script $$shell > $(generated)/completion.$$shell || exit 1; \
	done
	sed -e 's|^ExecStart=/usr/bin/conary |ExecStart=$(BINDIR)/conary |' \
	    -e 's|file:///usr/share/doc/conary/|file://$(DOCDIR)/|' \
	    boot/conary-boot-good.service > $(generated)/conary-boot-good.service
	install -D -m 755 $(conary_binary) $(DESTDIR)$(BINDIR)/conary
	install -D -m 644 $(generated)/conary.1 $(DESTDIR)$(MANDIR)/man1/conary.1
	install -D -m 644 $(generated)/completion.bash $(DESTDIR)$(BASHCOMPLETIONDIR)/conary
	install -D -m 644 $(generated)/completion.zsh $(DESTDIR)$(ZSHCOMPLETIONDIR)/_conary
	install -D -m 644 $(generated)/completion.fish $(DESTDIR)$(FISHCOMPLETIONDIR)/conary.fish
	install -D -m 644 boot/README.md $(DESTDIR)$(DOCDIR)/boot/README.md
	install -D -m 755 -t $(DESTDIR)$(DRACUTMODULEDIR)/90conary dracut/90conary/module-setup.sh dracut/90conary/conary-state.sh
	install -D -m 644 $(generated)/conary-boot-good.service $(DESTDIR)$(SYSTEMDUNITDIR)/conary-boot-good.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/conary $(DESTDIR)$(MANDIR)/man1/conary.1 \
	    $(DESTDIR)$(BASHCOMPLETIONDIR)/conary $(DESTDIR)$(ZSHCOMPLETIONDIR)/_conary \
	    $(DESTDIR)$(FISHCOMPLETIONDIR)/conary.fish $(DESTDIR)$(DOCDIR)/boot/README.md \
	    $(DESTDIR)$(DRACUTMODULEDIR)/90conary/module-setup.sh $(DESTDIR)$(DRACUTMODULEDIR)/90conary/conary-state.sh \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/conary-boot-good.service
	rmdir $(DESTDIR)$(DRACUTMODULEDIR)/90conary $(DESTDIR)$(DOCDIR)/boot $(DESTDIR)$(DOCDIR) 2>/dev/null || true
