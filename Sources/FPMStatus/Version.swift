/// swift-fpm's version, the one place it is written: `fpm -v`/`--version` and
/// `fpmctl --version` print it, and the man pages carry it. In FPMStatus, the one module both
/// the server and `fpmctl` link.
package let swiftFPMVersion = "0.1.0"
