# The multi-host suite (issue 20; docs/DEPLOYMENT.md quotes its figures): three swift-fpm hosts
# (a Swift pool and a PHP pool each) and a MariaDB host in network namespaces made by the test,
# behind nginx, HAProxy and Caddy in turn, under load while hosts are reloaded, upgraded,
# stopped, killed and saturated; php-fpm 8.2 measured the same way. Plus the Kubernetes
# manifests (examples/kubernetes) checked by kubernetes-validate against a pinned version.
#
#   make test-multihost   install what it needs, build the tests, run Tests/IntegrationTests/MultiHost*
#                         (FPM_MULTIHOST=1 enables them; plain `swift test` skips them)
#
# It needs root (network namespaces; CI runs as root) and takes about three minutes, so
# `make test` runs it too (TEST_EXTRA). Without root it fails, saying so.

MULTIHOST_SCRATCH ?= .build
# Debian packages: the database host, the PHP pools' mysqli, the front ends, `ip`.
MULTIHOST_PACKAGES = mariadb-server mariadb-client php8.2-cgi php8.2-mysql php8.2-fpm nginx haproxy caddy iproute2
# kubernetes-validate (PyPI) in a venv under the build folder; the manifests are checked against
# this Kubernetes version (one the pinned release bundles schemas for).
KUBERNETES_VALIDATE_VERSION = 1.37.0
KUBERNETES_VERSION = 1.31.0
KUBERNETES_VENV = $(MULTIHOST_SCRATCH)/kubernetes-validate

TEST_EXTRA += test-multihost

.PHONY: test-multihost deps-multihost

deps-multihost:
	@missing=""; for p in $(MULTIHOST_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@[ -x $(KUBERNETES_VENV)/bin/kubernetes-validate ] || { echo "installing (pip, venv): kubernetes-validate==$(KUBERNETES_VALIDATE_VERSION)"; \
		python3 -m venv $(KUBERNETES_VENV) && \
		$(KUBERNETES_VENV)/bin/pip install -q kubernetes-validate==$(KUBERNETES_VALIDATE_VERSION); }

test-multihost: deps deps-multihost
	$(SWIFT) build --build-tests --scratch-path $(MULTIHOST_SCRATCH)
	FPM_MULTIHOST=1 KUBERNETES_VALIDATE=$(abspath $(KUBERNETES_VENV))/bin/kubernetes-validate \
		KUBERNETES_VERSION=$(KUBERNETES_VERSION) \
		$(SWIFT) test --skip-build --scratch-path $(MULTIHOST_SCRATCH) --filter MultiHost
