import FPMConfiguration

/// The pool's `ping.path` and `pm.status_path` pages, matched on SCRIPT_NAME as php-fpm does —
/// or on PATH_INFO when SCRIPT_NAME is empty, as lighttpd sends for an app mounted at "/" with
/// `"fix-root-scriptname" => "enable"` (SCRIPT_NAME "", PATH_INFO "/status").
///
/// Which page a request asks for is decided here; writing it to a worker's response is the
/// server's part (FPMServer's `BuiltInPages.serve`), so this module needs no handler types.
package enum BuiltInPages {
    /// A page a pool serves before its handler.
    package enum Page: Sendable, Equatable {
        case ping
        case status
    }

    /// The path the pages are matched on: SCRIPT_NAME, or PATH_INFO when SCRIPT_NAME is empty.
    /// The workers' pages and the master's status listener both match with this.
    package static func matchedPath(scriptName: String, pathInfo: String?) -> String {
        scriptName.isEmpty ? pathInfo ?? "" : scriptName
    }

    /// The page of `config` that `path` (``matchedPath(scriptName:pathInfo:)``) names, ping
    /// first; nil when it names none.
    package static func page(at path: String, config: PoolConfiguration) -> Page? {
        if let ping = config.pingPath, path == ping { return .ping }
        if let status = config.statusPath, path == status { return .status }
        return nil
    }
}
