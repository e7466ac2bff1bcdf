import FastCGI

/// What a web server sends that is not a plain CGI value, put right once per request before
/// any handler (a Swift app, `cgi`, `info`, the status and ping pages) or the scoreboard sees
/// the params.
///
/// Apache's mod_proxy_fcgi, with its default `ProxyFCGIBackendType FPM`, sends the proxy URL
/// as the script's file name: `SetHandler "proxy:fcgi://127.0.0.1:9000"` gives
/// `SCRIPT_FILENAME=proxy:fcgi://127.0.0.1:9000/srv/www/hello.sh`, and a balancer gives
/// `proxy:balancer://name/…`. php-fpm takes the path from the first `/` after the authority
/// and drops a `?query` a RewriteRule may have left there; so does swift-fpm (without that, a
/// `cgi` pool answers 403 "not an absolute path"). A value with no `/` after the authority is
/// left as it is, as php-fpm does. PATH_TRANSLATED gets the same treatment: php-fpm rebuilds
/// it from DOCUMENT_ROOT + PATH_INFO when it splits a path, which swift-fpm does not do, so a
/// proxy URL there would otherwise reach CGI scripts.
///
/// Exec pools (`exec = php-cgi …`) are not covered: the exec'd program accepts on the pool's
/// socket itself and reads the web server's params unseen by swift-fpm. php-cgi does not strip
/// the prefix ("No input file specified."): Apache must send plain paths to it, which
/// `ProxyFCGIBackendType GENERIC` does (see examples/apache/README.md).
package enum FrontEndQuirks {
    /// The params to serve: `params` itself (no copy) unless SCRIPT_FILENAME or
    /// PATH_TRANSLATED carries an Apache proxy URL, else a copy with those values stripped.
    package static func normalized(_ params: FastCGIParams) -> FastCGIParams {
        let needed = params.withValue(.scriptFilename) { hasProxyPrefix($0) }
            || params.withValue(.pathTranslated) { hasProxyPrefix($0) }
        guard needed else { return params }
        var encoded: [UInt8] = []
        encoded.reserveCapacity(params.encoded.count)
        params.forEachBytes { name, value in
            if isRewritten(name), let path = pathOfProxyURL(value) {
                NameValuePairs.append(name: name, value: path, to: &encoded)
            } else {
                NameValuePairs.append(name: name, value: value, to: &encoded)
            }
        }
        // Re-encoding pairs that decoded once cannot fail, and adds none.
        return (try? FastCGIParams(encoded: encoded, maxCount: Int.max)) ?? params
    }

    /// The path part of an Apache `proxy:fcgi://authority/path?query` or
    /// `proxy:balancer://name/path?query` value (the scheme matched case-insensitively):
    /// `/path`. nil when `value` does not start with either scheme. With no `/` after the
    /// authority the value is kept whole, and in every case cut at its first `?`.
    package static func pathOfProxyURL<C: Collection<UInt8>>(_ value: C) -> C.SubSequence? {
        guard let schemeLength = proxySchemeLength(value) else { return nil }
        let afterScheme = value.index(value.startIndex, offsetBy: schemeLength)
        let start = value[afterScheme...].firstIndex(of: UInt8(ascii: "/")) ?? value.startIndex
        let rest = value[start...]
        return rest[..<(rest.firstIndex(of: UInt8(ascii: "?")) ?? rest.endIndex)]
    }

    static let schemes: [[UInt8]] = [Array("proxy:fcgi://".utf8), Array("proxy:balancer://".utf8)]

    /// The length of the proxy scheme `value` starts with, or nil.
    static func proxySchemeLength<C: Collection<UInt8>>(_ value: C) -> Int? {
        for scheme in schemes where value.count >= scheme.count {
            if zip(value, scheme).allSatisfy({ lowercased($0) == $1 }) { return scheme.count }
        }
        return nil
    }

    static func hasProxyPrefix(_ value: UnsafeRawBufferPointer?) -> Bool {
        guard let value, value.count >= 6, lowercased(value[0]) == UInt8(ascii: "p") else { return false }
        return proxySchemeLength(value) != nil
    }

    static func isRewritten(_ name: UnsafeRawBufferPointer) -> Bool {
        name.elementsEqual("SCRIPT_FILENAME".utf8) || name.elementsEqual("PATH_TRANSLATED".utf8)
    }

    static func lowercased(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
}
