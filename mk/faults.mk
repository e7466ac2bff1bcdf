# The fault-tolerance suite (issue 9; docs/RELIABILITY.md lists each case and its figures):
# workers and masters killed, a stopped worker, descriptor exhaustion, an unwritable error log,
# a hundred reloads under a kept-alive POST load through nginx, refused reloads under load, a
# leaking handler with pm.max_memory. Real binaries, real signals, real nginx.
#
#   make test-faults     build the tests, then run only Tests/IntegrationTests/FaultSuiteTests
#                        (FPM_FAULTS=1 enables the suite; plain `swift test` skips it)
#
# It takes about a minute (most of it the hundred reloads and the keep-alive kill case, which also
# measures php-fpm), so `make test` runs it too (TEST_EXTRA).
# FAULTS_SCRATCH picks the build folder (`make test` builds .build).
# The soak (one million requests through nginx, bench/soak.py) is separate: `make soak`.

FAULTS_SCRATCH ?= .build

TEST_EXTRA += test-faults

.PHONY: test-faults soak

test-faults: deps
	$(SWIFT) build --build-tests --scratch-path $(FAULTS_SCRATCH)
	FPM_FAULTS=1 $(SWIFT) test --skip-build --scratch-path $(FAULTS_SCRATCH) --filter FaultSuite

soak:
	scripts/soak.sh
