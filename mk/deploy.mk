# Deploying an app (README "Deploying your app"): the fpm-install command plugin
# (Plugins/FPMInstall) run on examples/hello as a user runs it on theirs.
#
#   make test-deploy   what `make test` runs: scripts/test-deploy.sh — fpm-install into a temp
#                      DESTDIR, the layout, the installed hello behind nginx (request, reload,
#                      stop), the logrotate snippet, `systemd-analyze verify` on the units.
#                      The release build (examples/hello/.build/fpm-install) is the only
#                      expensive part: ~3½ min from scratch on 2 cores, seconds once built.
#   make deploy-hello DESTDIR=/tmp/pkg [PREFIX=/usr]   just the install, for a look

# What the test needs beyond `deps`: systemd-analyze (the systemd package; it verifies units
# without systemd running), man (systemd-analyze checks Documentation=man: pages), mandoc (lint),
# logrotate, curl.
DEPLOY_PACKAGES = systemd man-db mandoc logrotate curl

TEST_EXTRA += test-deploy

.PHONY: test-deploy deploy-hello deps-deploy

deps-deploy:
	@missing=""; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	command -v man >/dev/null 2>&1 || missing="$$missing man-db"; \
	command -v mandoc >/dev/null 2>&1 || missing="$$missing mandoc"; \
	command -v logrotate >/dev/null 2>&1 || [ -x /usr/sbin/logrotate ] || missing="$$missing logrotate"; \
	command -v curl >/dev/null 2>&1 || missing="$$missing curl"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

test-deploy: deps deps-deploy
	PATH="$$PATH:/usr/sbin" SWIFT="$(SWIFT)" scripts/test-deploy.sh

deploy-hello:
	$(SWIFT) package --package-path examples/hello fpm-install --product hello \
		--prefix $(or $(PREFIX),/usr/local) $(if $(DESTDIR),--destdir $(DESTDIR))
