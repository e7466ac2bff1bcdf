import Glibc

/// `error_log = syslog`: the system logger.
package enum Syslog {
    /// Opens the connection with an identity that lives as long as the process (syslog keeps
    /// the pointer). The corresponding C function is `openlog`.
    package static func open(ident: String, facility: Int32) {
        openlog(strdup(ident), LOG_PID, facility)
    }

    /// One line at `priority`, never interpreted as a format. The corresponding C function is
    /// `vsyslog`.
    package static func write(priority: Int32, _ line: String) {
        line.withCString { c in withVaList([c]) { vsyslog(priority, "%s", $0) } }
    }
}
