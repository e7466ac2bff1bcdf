# The layering check (scripts/check-layering.sh): no raw libc call above Sources/FPMSystem.
# It takes a second, so `make test` runs it first, before the build.
#
#   make lint    the check alone; paths in scripts/layering-allowlist.txt are skipped

.PHONY: lint

lint:
	@scripts/check-layering.sh

test: lint
