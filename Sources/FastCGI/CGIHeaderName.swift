/// How CGI names an HTTP request header (RFC 3875 4.1.18): `Accept-Language` arrives as the
/// param `HTTP_ACCEPT_LANGUAGE`, upper case with `-` as `_`. One mapping for the worker's header
/// lookup, the tracing extractor and TestClient's request builder, and its inverse for
/// `Request.headers`. `Content-Type` and `Content-Length` are CONTENT_TYPE and CONTENT_LENGTH,
/// not HTTP_ params: callers handle those two themselves.
public enum CGIHeaderName {
    /// The param that carries header `name` (any case): `HTTP_` + the name in upper case, `-` as `_`.
    @inlinable
    public static func param(forHeader name: some StringProtocol) -> String {
        var key = "HTTP_"
        for c in name.utf8 {
            switch c {
            case UInt8(ascii: "-"): key.append("_")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): key.unicodeScalars.append(Unicode.Scalar(c - 32))
            default: key.unicodeScalars.append(Unicode.Scalar(c))
            }
        }
        return key
    }

    /// The header name a param carries, in lower case with `-` for `_`; nil for a param that
    /// is not `HTTP_…`.
    public static func header(forParam param: String) -> String? {
        guard param.hasPrefix("HTTP_") else { return nil }
        return String(param.dropFirst(5).lowercased().map { $0 == "_" ? "-" : $0 })
    }
}
