/// swift-fpm's version, the one place it is written: `fpm -v`/`--version` and
/// `fpmctl --version` print it, and the man pages carry it.
package let swiftFPMVersion = "0.1.0"
