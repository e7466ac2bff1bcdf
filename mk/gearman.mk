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

# `make fuzz-gearman` builds fuzz/bin/gearman-parser and runs it FUZZ_SECONDS (default 600) on
# fuzz/corpus-gearman, which starts from the committed seeds in fuzz/corpus-seed-gearman.
FUZZ_SECONDS ?= 600
SWIFTC ?= swiftc
GEARMAN_FUZZ_SOURCES = $(wildcard Sources/Gearman/*.swift) fuzz/GearmanParserFuzz.swift

.PHONY: fuzz-gearman fuzz-gearman-build

fuzz/bin/gearman-parser: $(GEARMAN_FUZZ_SOURCES)
	@mkdir -p fuzz/bin
	$(SWIFTC) -O -sanitize=fuzzer,address -parse-as-library -module-name GearmanFuzz \
		$(GEARMAN_FUZZ_SOURCES) -o $@

fuzz-gearman-build: fuzz/bin/gearman-parser

fuzz-gearman: fuzz/bin/gearman-parser
	@mkdir -p fuzz/corpus-gearman
	@cp -n fuzz/corpus-seed-gearman/* fuzz/corpus-gearman/ 2>/dev/null || true
	cd fuzz && SWIFT_BACKTRACE=enable=no ./bin/gearman-parser -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-timeout=10 corpus-gearman

# `make gearman-udf` builds .build/gearman-udf/gearman_udf.so, the MariaDB UDFs
# gman_do_background(function, payload) and gman_servers_set('host:port') (udf/gearman_udf.c),
# against libgearman-dev and libmariadb-dev.
GEARMAN_UDF = .build/gearman-udf/gearman_udf.so

.PHONY: gearman-udf

gearman-udf: $(GEARMAN_UDF)

$(GEARMAN_UDF): udf/gearman_udf.c
	@[ -f /usr/include/libgearman-1.0/gearman.h ] || { echo "libgearman-dev is missing: make deps installs it" >&2; exit 1; }
	@[ -f /usr/include/mariadb/mysql.h ] || { echo "libmariadb-dev is missing: make deps installs it" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -shared -fPIC -I/usr/include/mariadb -o $@ $< -lgearman -lpthread
