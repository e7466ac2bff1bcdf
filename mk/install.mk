# Installing swift-fpm: the binaries, their man pages (swift-argument-parser's generate-manual
# plugin, from the commands' own help), the configuration under /etc/swift-fpm/, the systemd
# units and the logrotate snippet (examples/systemd/, paths filled in).
#
#   make install PREFIX=/usr DESTDIR=/tmp/pkg   lay it all out (DESTDIR for packaging)
#   make uninstall PREFIX=/usr                  remove what install put there (not the config)
#   make man                                    only the man pages, into $(MAN_OUTPUT)
#   make test-install                           what `make test` runs: install into a temp
#                                               DESTDIR and check the layout
#
# An existing configuration is never overwritten: a new one goes next to it as *.new.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc/swift-fpm
UNITDIR ?= $(PREFIX)/lib/systemd/system
LOGROTATEDIR ?= /etc/logrotate.d
RUNDIR ?= /run
INSTALL ?= install
# Which build to install from: release by default; test-install reuses the debug build.
INSTALL_CONFIGURATION ?= release
INSTALL_SCRATCH ?= .build-release
# The Swift runtime linked in: the installed binaries do not load libswiftCore.so from the
# toolchain's folder (which a server need not have), and each process maps less of it (make
# bench: PSS per worker 1.75 MB against 2.12, the master's 4.5 against 6.8; req/s the same
# within the noise).
INSTALL_SWIFT_FLAGS ?= --static-swift-stdlib
# Built apart from the man pages' build, which the plugin makes without those flags. Sharing one
# scratch folder does not save the second build: SwiftPM compiles every module with
# -static-stdlib under --static-swift-stdlib, and the plugin's build with -disable-sandbox
# instead, so each rebuilds all (`swift package` takes no --static-swift-stdlib). From scratch
# on 2 busy cores: 308 s for `make install`. An app deployed with `swift package fpm-install`
# (mk/deploy.mk) builds once and writes its man page from the binary's own help.
BIN_SCRATCH = $(if $(INSTALL_SWIFT_FLAGS),$(INSTALL_SCRATCH)-static,$(INSTALL_SCRATCH))
MAN_OUTPUT = $(INSTALL_SCRATCH)/plugins/GenerateManual/outputs
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

TEST_EXTRA += test-install

.PHONY: install uninstall man install-binaries test-install

install-binaries:
	$(SWIFT) build -c $(INSTALL_CONFIGURATION) $(INSTALL_SWIFT_FLAGS) --scratch-path $(BIN_SCRATCH) --product fpm
	$(SWIFT) build -c $(INSTALL_CONFIGURATION) $(INSTALL_SWIFT_FLAGS) --scratch-path $(BIN_SCRATCH) --product fpmctl

## man: fpm.1 and fpmctl.1, generated from the commands' definitions (works offline).
man:
	$(SWIFT) package --scratch-path $(INSTALL_SCRATCH) --disable-sandbox plugin generate-manual \
		--configuration $(INSTALL_CONFIGURATION) --authors "swift-fpm contributors"
	scripts/finish-man-pages.sh $(MAN_OUTPUT) $(INSTALL_SCRATCH)/$(INSTALL_CONFIGURATION)/fpm

install: install-binaries man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSCONFDIR)/pool.d \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(LOGROTATEDIR)
	$(INSTALL) -m 755 $(BIN_SCRATCH)/$(INSTALL_CONFIGURATION)/fpm $(BIN_SCRATCH)/$(INSTALL_CONFIGURATION)/fpmctl $(DESTDIR)$(BINDIR)/
	@# The exec pools' request counter (mk/exec-counter.mk), where fpm looks: ../lib/swift-fpm/.
	$(MAKE) --no-print-directory exec-counter DIR=$(DESTDIR)$(PREFIX)/lib/swift-fpm
	chmod 644 $(DESTDIR)$(PREFIX)/lib/swift-fpm/libFPMExecCounter.so
	$(INSTALL) -m 644 $(MAN_OUTPUT)/fpm/fpm.1 $(MAN_OUTPUT)/fpmctl/fpmctl.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -D -m 644 $(MAN_OUTPUT)/fpm/fpm.conf.5 $(DESTDIR)$(MANDIR)/man5/fpm.conf.5
	@# The shipped configuration, its pid file moved to $(RUNDIR).
	@for f in fpm.conf pool.d/www.conf; do \
		dest=$(DESTDIR)$(SYSCONFDIR)/$$f; [ -e $$dest ] && dest=$$dest.new; \
		sed -e 's|^;*pid = .*|pid = $(RUNDIR)/swift-fpm.pid|' conf/$$f > $$dest.tmp && chmod 644 $$dest.tmp && mv $$dest.tmp $$dest; \
		echo "installed $$dest"; \
	done
	$(SUBST) examples/systemd/swift-fpm.service > $(DESTDIR)$(UNITDIR)/swift-fpm.service
	$(SUBST) examples/systemd/swift-fpm.socket > $(DESTDIR)$(UNITDIR)/swift-fpm.socket
	$(SUBST) examples/systemd/logrotate.conf > $(DESTDIR)$(LOGROTATEDIR)/swift-fpm
	chmod 644 $(DESTDIR)$(UNITDIR)/swift-fpm.service $(DESTDIR)$(UNITDIR)/swift-fpm.socket $(DESTDIR)$(LOGROTATEDIR)/swift-fpm

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fpm $(DESTDIR)$(BINDIR)/fpmctl $(DESTDIR)$(MANDIR)/man1/fpm.1 \
		$(DESTDIR)$(MANDIR)/man1/fpmctl.1 $(DESTDIR)$(UNITDIR)/swift-fpm.service \
		$(DESTDIR)$(UNITDIR)/swift-fpm.socket $(DESTDIR)$(LOGROTATEDIR)/swift-fpm \
		$(DESTDIR)$(PREFIX)/lib/swift-fpm/libFPMExecCounter.so

## test-install: install into a temp DESTDIR from the debug build `make test` made, then check.
test-install:
	@dest=$$(mktemp -d /tmp/swift-fpm-install.XXXXXX); \
	$(MAKE) --no-print-directory install DESTDIR=$$dest PREFIX=/usr INSTALL_CONFIGURATION=debug \
		INSTALL_SCRATCH=$(or $(TEST_INSTALL_SCRATCH),.build) INSTALL_SWIFT_FLAGS= >/dev/null && \
	scripts/check-install.sh $$dest /usr; status=$$?; rm -rf $$dest; exit $$status
