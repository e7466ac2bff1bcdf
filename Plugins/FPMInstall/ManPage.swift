import Foundation

/// The app's man page (mdoc), from the binary's own `--experimental-dump-help` (the
/// swift-argument-parser description of its options) and the installed layout. The same source
/// swift-argument-parser's generate-manual plugin reads, without that plugin's second build.
enum ManPage {
    struct ToolInfo: Decodable { var command: Command }
    struct Command: Decodable {
        var abstract: String?
        var arguments: [Argument]?
    }
    struct Argument: Decodable {
        var kind: String
        var names: [Name]?
        var valueName: String?
        var abstract: String?
        var isOptional: Bool?
        var isRepeating: Bool?
        var shouldDisplay: Bool?
    }
    struct Name: Decodable { var kind: String; var name: String }

    static func render(dumpHelp: Data, layout: Layout, description: String?) throws -> String {
        let info: ToolInfo
        do { info = try JSONDecoder().decode(ToolInfo.self, from: dumpHelp) } catch {
            throw InstallError("\(layout.name) --experimental-dump-help printed no command description: \(error)")
        }
        let name = layout.name
        let arguments = (info.command.arguments ?? []).filter { $0.shouldDisplay ?? true }
        var out: [String] = [
            ".\\\" Written by swift-fpm's fpm-install from \(name) --experimental-dump-help.",
            ".Dd \(date())",
            ".Dt \(name.uppercased()) 1",
            ".Os",
            ".Sh NAME",
            ".Nm \(name)",
            ".Nd \(escape(description ?? "a FastCGI application server built on swift-fpm"))",
            ".Sh SYNOPSIS",
            ".Nm",
        ]
        out += arguments.map { synopsis($0) }
        out += [".Sh DESCRIPTION", ".Nm",
                "is a Swift app linked with swift-fpm's FPM library:",
                "a master process reads php-fpm-style pool files, opens each pool's socket and forks",
                "workers that run the app's handlers, one request at a time.",
                "Installed, it runs as",
                ".Pa \(name).service",
                "with",
                ".Fl y Pa \(layout.mainConfig)",
                "and the sockets of",
                ".Pa \(name).socket ;",
                ".Xr fpmctl 1",
                "reloads it, reopens its logs and stops it."]
        if let abstract = info.command.abstract, !abstract.isEmpty { out += [".Pp", escape(abstract)] }
        out += [".Pp",
                "Signals: TERM and INT stop now, QUIT stops gracefully (in-flight requests finish),",
                "USR1 reopens the logs, USR2 and HUP reload without dropping a request.",
                "The new configuration is checked first; a refused one leaves the running workers serving."]
        out += [".Sh OPTIONS", ".Bl -tag -width 6n"]
        for argument in arguments {
            out.append(".It " + names(argument).joined(separator: " , ") + value(argument))
            out.append(escape(argument.abstract ?? ""))
        }
        out.append(".El")
        out += [".Sh FILES", ".Bl -tag -width 6n"]
        let files: [(String, String)] = [
            (layout.binary, "the server"),
            (layout.mainConfig, "the main configuration (global settings; includes pool.d/*.conf)"),
            (layout.poolDir + "/*.conf", "the pools"),
            (layout.serviceUnit, "the systemd service (Type=notify)"),
            (layout.socketUnit, "the listening sockets (socket activation)"),
            (layout.logDir + "/", "the error log and the pools' logs, rotated by " + layout.logrotate),
            (layout.pidFile, "the master's pid"),
        ]
        for (path, what) in files {
            out.append(".It Pa \(path)")
            out.append(escape(what))
        }
        out += [".El", ".Sh EXIT STATUS",
                "0 on success, 78 when the configuration is refused,",
                "70 when the master could not start.",
                ".Sh SEE ALSO",
                ".Xr fpmctl 1 ,",
                ".Xr systemd.socket 5 ,",
                ".Xr logrotate 8"]
        return out.joined(separator: "\n") + "\n"
    }

    static func synopsis(_ argument: Argument) -> String {
        let preferred = names(argument).first ?? ""
        let body = (preferred + value(argument)).trimmingCharacters(in: .whitespaces)
        let item = argument.kind == "positional" ? "Ar \(argument.valueName ?? "value")" : body
        // A repeated flag (-tt) is the flag again, not an argument: no ellipsis for it.
        let repeated = argument.isRepeating == true && argument.kind != "flag" ? " ..." : ""
        return (argument.isOptional ?? true ? ".Op " : ".") + item + repeated
    }

    static func names(_ argument: Argument) -> [String] {
        (argument.names ?? []).map { name in
            switch name.kind {
            case "long": "Fl -" + name.name
            default: "Fl " + name.name
            }
        }
    }

    static func value(_ argument: Argument) -> String {
        argument.kind == "option" ? " Ar \(argument.valueName ?? "value")" : ""
    }

    /// Text as mdoc reads it: a backslash is `\e`, a line may not start with a dot or quote.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\e")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") || $0.hasPrefix("'") ? "\\&" + $0 : String($0) }
            .joined(separator: "\n")
    }

    /// Today, or SOURCE_DATE_EPOCH for a reproducible package.
    static func date() -> String {
        let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(Double.init)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMMM d, yyyy"
        return formatter.string(from: epoch.map { Date(timeIntervalSince1970: $0) } ?? Date())
    }
}
