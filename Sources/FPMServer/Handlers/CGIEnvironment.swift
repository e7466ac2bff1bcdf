import FPMStatus
import FPMSystem
import FastCGI

/// The environment a CGI script runs with (RFC 3875 §4.1): the worker's own environment (the
/// pool's `env[…]`, or everything inherited when `clear_env = no`), then every FastCGI param,
/// then the meta-variables the RFC requires that the web server did not send.
package enum CGIEnvironment {
    /// Params never passed on: `HTTP_PROXY` is a client's `Proxy:` header, and libraries read
    /// it as their proxy setting ("httpoxy").
    package static let droppedParams: Set<String> = ["HTTP_PROXY"]

    /// `NAME=value` entries as bytes (params need not be UTF-8), sorted by name.
    package static func build(params: FastCGIParams, base: [String: String],
                             serverSoftware: String = "swift-fpm/\(swiftFPMVersion)") -> [[UInt8]] {
        var env: [[UInt8]: [UInt8]] = [:]
        for (name, value) in base {
            let n = Array(name.utf8), v = Array(value.utf8)
            if isValidName(n) && !v.contains(0) { env[n] = v }
        }
        for (name, value) in params.bytePairs {
            guard isValidName(name), !value.contains(0) else { continue }
            if droppedParams.contains(String(decoding: name, as: UTF8.self)) { continue }
            env[name] = value
        }
        // An empty CONTENT_LENGTH (nginx sends one for a GET) means no body: unset, per §4.1.2.
        if let length = env[Array("CONTENT_LENGTH".utf8)], length.isEmpty {
            env[Array("CONTENT_LENGTH".utf8)] = nil
        }
        func setDefault(_ name: String, _ value: String) {
            let key = Array(name.utf8)
            if env[key] == nil { env[key] = Array(value.utf8) }
        }
        setDefault("GATEWAY_INTERFACE", "CGI/1.1")
        setDefault("SERVER_SOFTWARE", serverSoftware)
        setDefault("SERVER_PROTOCOL", "HTTP/1.0")
        setDefault("REQUEST_METHOD", "GET")
        setDefault("QUERY_STRING", "")
        setDefault("SCRIPT_NAME", "")
        // PATH_TRANSLATED (§4.1.6): PATH_INFO mapped onto the document root, when both are known.
        if let info = env[Array("PATH_INFO".utf8)], !info.isEmpty, env[Array("PATH_TRANSLATED".utf8)] == nil,
           var root = env[Array("DOCUMENT_ROOT".utf8)], !root.isEmpty {
            if root.last == UInt8(ascii: "/") && info.first == UInt8(ascii: "/") { root.removeLast() }
            env[Array("PATH_TRANSLATED".utf8)] = root + info
        }
        return env.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { $0.key + [UInt8(ascii: "=")] + $0.value }
    }

    /// A name a C environment can hold: not empty, no `=`, no NUL.
    static func isValidName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && !name.contains(UInt8(ascii: "=")) && !name.contains(0)
    }
}
