
/// A php-fpm pool moved over runs PHP through `exec = php-cgi…`: what tells such a pool apart,
/// what its php.ini overrides become, and which php-cgi the error message can name.
public enum PHPCGI {
    /// Whether `program` (exec's first word) is php-cgi, by its name: `php-cgi`, `php-cgi8.2`,
    /// or a path to either.
    public static func isPHPCGI(_ program: String) -> Bool {
        let name = program.split(separator: "/").last.map(String.init) ?? program
        return name.hasPrefix("php-cgi")
    }

    /// The pool's `php_value`/`php_admin_value`/`php_flag`/`php_admin_flag` lines as php-cgi's
    /// `-d name=value` arguments, in file order. Flags become 1 or 0 (php-fpm stores them as a
    /// boolean too). php-cgi parses each like a php.ini line, so `E_ALL & ~E_NOTICE` is
    /// evaluated as php-fpm's configuration reader evaluates it. Unlike php-fpm, an admin
    /// value is not locked: a script's ini_set() can still change it.
    public static func iniArguments(_ settings: [PHPSetting]) -> [String] {
        settings.flatMap { setting -> [String] in
            var value = setting.value
            if setting.kind == .flag || setting.kind == .adminFlag {
                value = ((try? ValueParsing.bool(value)) ?? false) ? "1" : "0"
            }
            return ["-d", "\(setting.key)=\(value)"]
        }
    }

    /// The first line that makes a pool without `handler` or `exec` look like php-fpm's:
    /// a php.ini override, `.php` in `security.limit_extensions`, or Debian's `/run/php/` socket.
    static func evidence(in pool: PoolConfiguration) -> String? {
        let source = pool.source
        if let setting = pool.phpSettings.first {
            let line = source.location(of: setting.kind.rawValue).line
            return "\(setting.kind.rawValue) at line \(line)"
        }
        if let extensions = pool.securityLimitExtensions, extensions.contains(where: { $0.lowercased().hasPrefix(".php") }) {
            return "security.limit_extensions = \(extensions.joined(separator: " ")) at line \(source.location(of: "security.limit_extensions").line)"
        }
        if case .unix(let path) = pool.listen, path.hasPrefix("/run/php/") || path.hasPrefix("/var/run/php/") {
            return "listen = \(path) at line \(source.location(of: "listen").line)"
        }
        return nil
    }

    /// `php-cgi8.10` over `php-cgi8.2` over `php-cgi`; names with other suffixes are not chosen.
    public static func preferred(_ names: Set<String>) -> String? {
        func version(_ name: String) -> [Int]? {
            let rest = name.dropFirst("php-cgi".count)
            if rest.isEmpty { return [] }
            let parts = rest.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
            return parts.contains(nil) ? nil : parts.compactMap { $0 }
        }
        let candidates = names.compactMap { name in version(name).map { (name, $0) } }
        return candidates.max { $0.1.lexicographicallyPrecedes($1.1) }?.0
    }
}

extension PoolConfiguration {
    /// An `exec` pool whose program is php-cgi.
    public var runsPHPCGI: Bool { exec?.first.map(PHPCGI.isPHPCGI) ?? false }
}
