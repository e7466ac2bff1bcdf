import FPM
import Foundation
import GRDB

/// `handler = guestbook`: GET / shows the form and the latest entries (HTML), POST / signs
/// (form fields `name`, `message`; 303 back to /, or 201 with the entry as JSON when the client
/// accepts JSON), GET /entries.json lists them as JSON.
///
/// The schema migration runs once per pool generation (`onPrepare`, in a process of its own
/// before any worker starts); each worker then opens its own connection in `onSetUp`, after
/// fork — never in the master, whose SQLite handle would be shared by every forked child.
enum GuestbookApp {
    /// The database file: the pool's env[GUESTBOOK_DB], else guestbook.sqlite.
    static func databasePath(_ environment: [(String, String)]) -> String {
        environment.last { $0.0 == "GUESTBOOK_DB" }?.1 ?? "guestbook.sqlite"
    }

    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        // Several workers write the same file: wait for each other's locks.
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// One worker's connection (each worker has its own copy of this box after fork).
    final class Connection {
        var database: DatabaseQueue?

        func get() throws -> DatabaseQueue {
            guard let database else { throw HTTPError(.serviceUnavailable, "no database (setUp did not run)") }
            return database
        }
    }

    struct EntryJSON: Codable {
        var id: Int64
        var name: String
        var message: String
        var createdAt: String

        init(_ e: Entry) {
            id = e.id ?? 0
            name = e.name
            message = e.message
            createdAt = ISO8601DateFormatter().string(from: e.createdAt)
        }
    }

    static func router(connection: Connection = Connection()) -> Router {
        let router = Router()
        router.onPrepare { pool in
            let queue = try open(databasePath(pool.environment))
            try Entry.migrator.migrate(queue)
            try queue.close()
        }
        router.onSetUp { worker in
            connection.database = try open(databasePath(worker.environment))
        }
        router.onTearDown {
            try? connection.database?.close()
            connection.database = nil
        }
        router.get("/") { _, response in
            let entries = try connection.get().read { try Entry.order(Column("id").desc).limit(50).fetchAll($0) }
            try response.send(Page.render(entries), contentType: "text/html; charset=utf-8")
        }
        let sign: Router.Responder = { request, response in
            let form = try request.form(limit: 64 * 1024)
            let name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let message = (form["message"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, !message.isEmpty, name.count <= 100, message.count <= 2000 else {
                throw HTTPError(.badRequest, "name (1-100 characters) and message (1-2000) are required")
            }
            var entry = Entry(id: nil, name: name, message: message, createdAt: Date())
            try connection.get().write { try entry.insert($0) }
            if request.header(.accept)?.contains("application/json") == true {
                try response.json(EntryJSON(entry), status: .created)
            } else {
                try response.redirect(to: "/")
            }
        }
        router.post("/", sign)
        router.post("/sign", sign)
        router.get("/entries.json") { _, response in
            let entries = try connection.get().read { try Entry.order(Column("id").desc).limit(200).fetchAll($0) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try response.json(entries.map(EntryJSON.init), encoder: encoder)
        }
        return router
    }
}

/// HTML rendering.
enum Page {
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func render(_ entries: [Entry]) -> String {
        var html = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Guestbook</title></head>
        <body>
        <h1>Guestbook</h1>
        <form method="post" action="/">
        <p><label>Name <input name="name" maxlength="100" required></label></p>
        <p><label>Message <textarea name="message" maxlength="2000" required></textarea></label></p>
        <p><button>Sign</button></p>
        </form>
        <ul>

        """
        for e in entries {
            html += "<li><b>\(escape(e.name))</b>: \(escape(e.message))</li>\n"
        }
        html += "</ul>\n</body></html>\n"
        return html
    }
}
