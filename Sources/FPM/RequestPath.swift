/// How a request's path is found in what each web server sends. The path is `SCRIPT_NAME` +
/// `PATH_INFO` (RFC 3875 §4.1.5, §4.1.13) everywhere; for `GET /hello/world` (captured from each
/// server):
///
/// - nginx, `fastcgi_param SCRIPT_NAME $uri`: SCRIPT_NAME `/hello/world` (decoded), no PATH_INFO;
///   with `fastcgi_split_path_info ^(/index)(/.*)$`, SCRIPT_NAME `/index`, PATH_INFO `/hello/world`;
/// - Apache `SetHandler "proxy:fcgi://…"`: SCRIPT_NAME `/hello`, PATH_INFO `/world` (Apache splits
///   at the first segment no file has); `ProxyPass / fcgi://…/`: SCRIPT_NAME `/hello/world`, and
///   under `ProxyPass /app/ fcgi://…/` SCRIPT_NAME `/app/hello/world` (the mount point is kept);
/// - lighttpd mod_fastcgi on `"/"` with `check-local` off: SCRIPT_NAME `/hello`, PATH_INFO
///   `/world`; with `"fix-root-scriptname" => "enable"`, SCRIPT_NAME empty and PATH_INFO
///   `/hello/world`.
///
/// When both are empty (a web server configured to send neither), the path part of
/// `REQUEST_URI` stands in, and `/` when there is none.
public enum RequestPath {
    /// The path from the three CGI params; always starts with `/`. `requestURI` is read only
    /// when the other two are empty.
    public static func path(scriptName: String?, pathInfo: String?, requestURI: @autoclosure () -> String?) -> String {
        let script = scriptName ?? ""
        let info = pathInfo ?? ""
        var path: String
        if info.isEmpty {
            path = script
        } else if script.isEmpty {
            path = info
        } else if script.hasSuffix("/") && info.hasPrefix("/") {
            path = script + info.dropFirst()
        } else {
            path = script + info
        }
        if path.isEmpty, let uri = requestURI() {
            path = String(uri.prefix { $0 != "?" && $0 != "#" })
        }
        if !path.hasPrefix("/") { path = "/" + path }
        return path
    }
}
