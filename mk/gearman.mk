# Gearman (Sources/Gearman, Sources/GearmanClient): libgearman's worker and client as the
# oracle of the differential tests (Tests/GearmanClientTests), built against libgearman-dev.
#
# `make gearman-oracle` builds .build/gearman-oracle/gearman_oracle_{worker,client}; the tests
# run it themselves, so `swift test` alone works too (with libgearman-dev installed).

CC ?= cc
GEARMAN_ORACLE_DIR = .build/gearman-oracle
GEARMAN_ORACLE = $(GEARMAN_ORACLE_DIR)/gearman_oracle_worker $(GEARMAN_ORACLE_DIR)/gearman_oracle_client

.PHONY: gearman-oracle

gearman-oracle: $(GEARMAN_ORACLE)

$(GEARMAN_ORACLE_DIR)/%: Tests/Oracle/gearman/%.c
	@[ -f /usr/include/libgearman-1.0/gearman.h ] || { echo "libgearman-dev is missing: make deps installs it" >&2; exit 1; }
	@mkdir -p $(GEARMAN_ORACLE_DIR)
	$(CC) -O1 -Wall -Wextra -Werror -o $@ $< -lgearman
