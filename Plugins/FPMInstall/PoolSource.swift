import Foundation

/// A configuration file to install: the app's pool files (or a default pool), and optionally
/// its own main configuration. Only what the units need is read from them: each pool's
/// `listen` (the socket unit binds the same addresses) and its `listen.owner/group/mode`.
struct PoolFile {
    var origin: String
    var fileName: String
    var text: String
    var isMain = false
    var listens: [Listen] = []

    struct Listen {
        var pool: String
        var address: String
        var owner: String?
        var group: String?
        var mode: String?
    }
}

enum PoolSource {
    /// --pool files, else the package's deploy/pool.d/*.conf, else a default pool named after
    /// the product; plus deploy/fpm.conf when the package has one.
    static func load(options: InstallOptions, packageDirectory: String, product: String) throws -> [PoolFile] {
        let files = FileManager.default
        var result: [PoolFile] = []
        let deploy = packageDirectory + "/deploy"
        if files.fileExists(atPath: deploy + "/fpm.conf") {
            var main = try read(deploy + "/fpm.conf")
            main.isMain = true
            result.append(main)
        }
        if !options.pools.isEmpty {
            for path in options.pools {
                result.append(try read(path.hasPrefix("/") ? path : packageDirectory + "/" + path))
            }
        } else if let names = try? files.contentsOfDirectory(atPath: deploy + "/pool.d"),
                  case let confs = names.filter({ $0.hasSuffix(".conf") }).sorted(), !confs.isEmpty {
            for name in confs { result.append(try read(deploy + "/pool.d/" + name)) }
        } else {
            say("fpm-install: no --pool and no deploy/pool.d/*.conf: installing a default pool [\(product)] with handler = \(product) on 127.0.0.1:9000")
            let text = Templates.defaultPool(name: product)
            result.append(PoolFile(origin: "default pool", fileName: product + ".conf", text: text,
                                   listens: listens(in: text)))
        }
        return result
    }

    static func read(_ path: String) throws -> PoolFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InstallError("cannot read the pool file \(path)")
        }
        let name = URL(fileURLWithPath: path).lastPathComponent
        return PoolFile(origin: path, fileName: name, text: text, listens: listens(in: text))
    }

    /// Each pool section's listen address, `$pool` expanded as the server does.
    static func listens(in text: String) -> [PoolFile.Listen] {
        var result: [PoolFile.Listen] = []
        var section = ""
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix(";") || line.hasPrefix("#") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard section != "global", let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            value = value.replacingOccurrences(of: "$pool", with: section)
            switch key {
            case "listen": result.append(PoolFile.Listen(pool: section, address: value))
            case "listen.owner": update(&result, section) { $0.owner = value }
            case "listen.group": update(&result, section) { $0.group = value }
            case "listen.mode": update(&result, section) { $0.mode = value }
            default: break
            }
        }
        return result
    }

    private static func update(_ listens: inout [PoolFile.Listen], _ pool: String, _ change: (inout PoolFile.Listen) -> Void) {
        if let index = listens.lastIndex(where: { $0.pool == pool }) { change(&listens[index]) }
    }
}
