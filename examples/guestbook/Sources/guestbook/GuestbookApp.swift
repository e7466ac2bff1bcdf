import FPM
import Foundation
import GRDB

/// `handler = guestbook`: GET / shows the form and the latest entries (HTML), POST / signs
/// (form fields `name`, `message`; 303 back to /), GET /entries.json lists them as JSON.
///
/// The database connection is opened in `setUp`, once per worker after fork — never in the
/// master, whose SQLite handle would be shared by every forked child.
final class GuestbookApp: Handler {
    var database: DatabaseQueue?

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    func setUp(_ worker: WorkerInfo) throws {
        let path = ProcessInfo.processInfo.environment["GUESTBOOK_DB"] ?? "guestbook.sqlite"
        var configuration = Configuration()
        // Several workers write the same file: wait for each other's locks.
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try Entry.migrator.migrate(queue)
        database = queue
    }

    func tearDown() {
        try? database?.close()
        database = nil
    }

    func handle(_ request: Request, _ response: Response) throws {
        guard let database else { throw Invalid(description: "no database (setUp did not run)") }
        switch (request.method, request.scriptName) {
        case ("GET", "/"), ("HEAD", "/"):
            let entries = try database.read { try Entry.order(Column("id").desc).limit(50).fetchAll($0) }
            response.contentType = "text/html; charset=utf-8"
            try response.write(Page.render(entries))
        case ("POST", "/"), ("POST", "/sign"):
            let fields = Dictionary(try request.formFields(limit: 64 * 1024), uniquingKeysWith: { $1 })
            let name = (fields["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let message = (fields["message"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, !message.isEmpty, name.count <= 100, message.count <= 2000 else {
                response.status = 400
                response.contentType = "text/plain; charset=utf-8"
                try response.write("name (1-100 characters) and message (1-2000) are required\n")
                return
            }
            var entry = Entry(id: nil, name: name, message: message, createdAt: Date())
            try database.write { try entry.insert($0) }
            if request.header("Accept")?.contains("application/json") == true {
                response.status = 201
                response.contentType = "application/json"
                try response.write(try JSONSerialization.data(withJSONObject: Page.json(entry)).map { $0 } + [0x0A])
            } else {
                response.status = 303
                try response.setHeader("Location", "/")
                response.contentType = "text/plain; charset=utf-8"
                try response.write("signed\n")
            }
        case ("GET", "/entries.json"):
            let entries = try database.read { try Entry.order(Column("id").desc).limit(200).fetchAll($0) }
            response.contentType = "application/json"
            let data = try JSONSerialization.data(withJSONObject: entries.map(Page.json), options: [.sortedKeys])
            try response.write(Array(data) + [0x0A])
        default:
            response.status = 404
            response.contentType = "text/plain; charset=utf-8"
            try response.write("not found\n")
        }
    }
}

/// HTML and JSON renderings.
enum Page {
    static func json(_ e: Entry) -> [String: Any] {
        ["id": e.id ?? 0, "name": e.name, "message": e.message,
         "createdAt": ISO8601DateFormatter().string(from: e.createdAt)]
    }

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
