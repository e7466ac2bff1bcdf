/// fpm.conf(5): the configuration reference as an mdoc page, one entry per directive of the
/// directive table (``Directives``), in the table's order. Each entry's text is the comment block
/// the shipped `conf/fpm.conf` and `conf/pool.d/www.conf` put above the directive (with its
/// "Default:" line), so the page and the files users copy say the same thing; a directive those
/// files do not show gets its text from ``unshipped``. `fpm --directive-reference conf` prints it;
/// `make install` installs it.
public enum DirectiveReference {
    /// A directive's documentation: its comment text and the example line(s) that followed it.
    struct Entry {
        var text: [String]
        var example: String?
    }

    /// Directives the shipped files leave out, mostly php-fpm's that swift-fpm accepts without
    /// acting on them.
    static let unshipped: [String: String] = [
        "listen.acl_users": "POSIX ACL users for a unix socket, as php-fpm's. Accepted; swift-fpm sets no ACL and warns when it is set.",
        "listen.acl_groups": "POSIX ACL groups for a unix socket, as php-fpm's. Accepted; swift-fpm sets no ACL and warns when it is set.",
        "listen.setfib": "FreeBSD's routing table for the socket. Accepted and ignored on Linux (a warning when not -1).",
        "apparmor_hat": "php-fpm's AppArmor change_hat. Accepted and ignored, with a warning.",
        "pm.max_memory": "A worker whose private memory passes this many bytes (k, M, G suffixes) after a request is replaced, its replacement started first, as pm.max_requests replaces one. Default: 0 (no limit).",
        "php_value": "php-fpm's php.ini overrides (php_value[name] = value). They concern only a PHP program run with exec; fpm -t says what swift-fpm does with them.",
        "php_flag": "A boolean php.ini override (php_flag[name] = on), as php_value.",
        "php_admin_value": "A php.ini override the script cannot change (php_admin_value[name] = value), as php_value.",
        "php_admin_flag": "A boolean php_admin_value.",
    ]

    /// The page, from the two shipped files' text; `date` goes in `.Dd` (e.g. "December 7, 2026").
    public static func manual(globalFile: String, poolFile: String, date: String) -> String {
        let global = entries(globalFile)
        let pool = entries(poolFile)
        var out = """
        .Dd \(date)
        .Dt FPM.CONF 5
        .Os
        .Sh NAME
        .Nm fpm.conf
        .Nd swift-fpm configuration file
        .Sh DESCRIPTION
        .Xr fpm 1
        reads php-fpm's configuration language: a
        .Cm [global]
        section, then one section per pool, named after the pool.

        """
        out += paragraph(Array(header(globalFile).dropFirst()))   // past the file's title
        out += section("GLOBAL DIRECTIVES", Directives.globalNames + ["include"], global)
        out += ".El\n"
        out += section("POOL DIRECTIVES", Directives.poolNames, pool)
        out += ".El\n"
        out += """
        .Sh FILES
        .Bl -tag -width Ds
        .It Pa conf/fpm.conf
        In the folder fpm starts in, read first when no -y is given.
        .It Pa /etc/swift-fpm/fpm.conf
        The installed configuration, read when the folder has no conf/fpm.conf.
        .It Pa /etc/swift-fpm/pool.d/*.conf
        Pool files, included by the installed fpm.conf.
        .El
        .Sh SEE ALSO
        .Xr fpm 1 ,
        .Xr fpmctl 1

        """
        return out
    }

    /// One `.Sh` with a tag list of `names` (the list is closed by the caller).
    static func section(_ title: String, _ names: [String], _ entries: [String: Entry]) -> String {
        var out = ".Sh \(title)\n.Bl -tag -width Ds\n"
        var seen: Set<String> = []
        for name in names where seen.insert(name).inserted {
            out += entry(name, entries[name])
        }
        return out
    }

    static func entry(_ name: String, _ found: Entry?) -> String {
        var out = ".It Cm \(name)\n"
        if let found {
            out += paragraph(found.text)
            if let example = found.example { out += ".Pp\nExample:\n.Ql \(escape(example))\n" }
        } else {
            out += paragraph([unshipped[name] ?? "As in php-fpm."])
        }
        return out
    }

    /// The comment lines of a file's opening block (up to its first blank line after text).
    static func header(_ file: String) -> [String] {
        var lines: [String] = []
        for raw in file.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix(";;;;") { if lines.isEmpty { continue } else { break } }
            guard line.hasPrefix(";") else { break }
            lines.append(uncomment(line))
        }
        return lines
    }

    /// A comment line's text, indentation past the one space after `;` kept.
    static func uncomment(_ line: String) -> String {
        let text = line.dropFirst()
        return String(text.hasPrefix(" ") ? text.dropFirst() : text)
    }

    /// A directive line, commented out or not: `name = value`, `;name = value`, `name[key] = value`.
    static func directive(_ line: String) -> String? {
        let body = line.hasPrefix(";") ? line.dropFirst() : Substring(line)
        guard let first = body.first, first.isLetter, let eq = body.firstRange(of: " = ") else { return nil }
        let name = body[body.startIndex..<eq.lowerBound]
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "._[]".contains($0) }) else { return nil }
        return String(name.prefix { $0 != "[" })
    }

    /// Each directive's comment block: the `; text` lines right above it (a blank line ends a
    /// block; consecutive directive lines share the block above them).
    static func entries(_ file: String) -> [String: Entry] {
        var result: [String: Entry] = [:]
        var block: [String] = []
        var afterDirective = false
        for raw in file.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw.drop { $0 == " " || $0 == "\t" })
            if let name = directive(line) {
                if result[name] == nil { result[name] = Entry(text: block, example: line.hasPrefix(";") ? String(line.dropFirst()) : line) }
                afterDirective = true
            } else if line.hasPrefix(";") && !line.hasPrefix(";;;;") {
                if afterDirective { block = []; afterDirective = false }
                block.append(uncomment(line))
            } else {
                block = []
                afterDirective = false
            }
        }
        return result
    }

    /// Text lines as mdoc: one sentence a line, indented lines kept as a literal display.
    static func paragraph(_ lines: [String]) -> String {
        var out = ""
        var literal = false
        for line in lines {
            if line.isEmpty {
                if literal { out += ".Ed\n"; literal = false }
                out += ".Pp\n"
                continue
            }
            let indented = line.hasPrefix("  ")
            if indented != literal {
                out += indented ? ".Bd -literal -offset indent\n" : ".Ed\n"
                literal = indented
            }
            if literal { out += escape(line) + "\n"; continue }
            for sentence in sentences(line) { out += escape(sentence) + "\n" }
        }
        if literal { out += ".Ed\n" }
        return out
    }

    /// Splits after `. ` when a capital letter follows (mdoc wants each sentence on its own line).
    static func sentences(_ line: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            current.append(c)
            if c == ".", chars.first == " ", let next = chars.dropFirst().first, next.isUppercase {
                parts.append(current)
                current = ""
                chars = chars.dropFirst()
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }

    /// Escapes roff: backslashes, and a leading `.` or `'` that would read as a request.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for c in text { escaped += c == "\\" ? "\\e" : String(c) }
        return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
    }
}
