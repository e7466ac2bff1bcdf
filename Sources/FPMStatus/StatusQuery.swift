/// The status page's output formats.
package enum StatusFormat: String, Sendable, CaseIterable {
    case text
    case html
    case xml
    case json
    case openmetrics

    /// The format a status request's `QUERY_STRING` asks for, by php-fpm's precedence:
    /// `html`, then `xml`, then `json`, then `openmetrics`, else `text`. Only key presence
    /// counts (`?json=0` is JSON), and `?json&xml` is XML.
    package init(queryString: String) {
        self = StatusQuery(queryString: queryString).format
    }
}

/// What a status request asks for: a format and whether to list every process (`full`).
package struct StatusQuery: Sendable, Equatable {
    package var format: StatusFormat
    package var full: Bool
    /// swift-fpm addition, OpenMetrics only: `strict` writes php-fpm's counters with the
    /// `_total` sample suffix strict OpenMetrics parsers require (see ``StatusPage``).
    package var strict: Bool

    package init(format: StatusFormat = .text, full: Bool = false, strict: Bool = false) {
        self.format = format
        self.full = full
        self.strict = strict
    }

    /// Reads `QUERY_STRING` the way PHP fills `$_GET` and php-fpm tests it: pairs split on
    /// `&`, keys percent- and `+`-decoded, leading spaces dropped, `key[...]` counted as `key`;
    /// values are ignored.
    package init(queryString: String) {
        var keys: Set<String> = []
        for pair in queryString.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let rawKey = pair.prefix { $0 != UInt8(ascii: "=") }
            if let key = StatusQuery.variableName(decoding: rawKey) { keys.insert(key) }
        }
        if keys.contains("html") {
            format = .html
        } else if keys.contains("xml") {
            format = .xml
        } else if keys.contains("json") {
            format = .json
        } else if keys.contains("openmetrics") {
            format = .openmetrics
        } else {
            format = .text
        }
        full = keys.contains("full")
        strict = keys.contains("strict")
    }

    /// The `$_GET` key PHP registers for a raw query key, or nil when it registers none.
    static func variableName(decoding raw: some Collection<UInt8>) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index != raw.endIndex {
            let byte = raw[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"),
                      let hi = raw.index(index, offsetBy: 1, limitedBy: raw.endIndex), hi != raw.endIndex,
                      let lo = raw.index(hi, offsetBy: 1, limitedBy: raw.endIndex), lo != raw.endIndex,
                      let h = hexValue(raw[hi]), let l = hexValue(raw[lo]) {
                bytes.append(h << 4 | l)
                index = lo
            } else {
                bytes.append(byte)
            }
            index = raw.index(after: index)
        }
        let trimmed = bytes.drop { $0 == UInt8(ascii: " ") }
        var name = Array(trimmed.prefix { $0 != 0 })
        if let open = name.firstIndex(of: UInt8(ascii: "[")) {
            if name[open...].contains(UInt8(ascii: "]")) {
                name.removeSubrange(open...)
            } else {
                name[open] = UInt8(ascii: "_")
            }
        }
        guard !name.isEmpty else { return nil }
        return String(decoding: name, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
