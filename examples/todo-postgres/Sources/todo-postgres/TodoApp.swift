import FPM
import Logging
import NIOPosix
import PostgresNIO

/// The todo API: a ``Router`` whose routes are async and talk to PostgreSQL through the
/// worker's own connection.
///
/// - `GET /todos` — every todo, by id;
/// - `POST /todos` — `{"title": "…"}` → 201 and the new todo;
/// - `GET /todos/:id`, `PATCH /todos/:id` (`{"title"?, "done"?}`), `DELETE /todos/:id` (204);
///   404 for an id that does not exist.
///
/// The table is created once per pool generation (`onPrepare`, before any worker starts); each
/// worker opens its connection in `onSetUp`, after fork (a connection is never shared between
/// processes), and closes it in `onTearDown`.
enum TodoApp {
    /// Where PostgreSQL is, from the pool's `env[...]`: TODO_PG_HOST (a host name, or the
    /// directory of its unix socket when it starts with `/`), TODO_PG_PORT, TODO_PG_USER,
    /// TODO_PG_DATABASE.
    static func configuration(_ environment: [(String, String)]) -> PostgresConnection.Configuration {
        let env = Dictionary(environment, uniquingKeysWith: { $1 })
        let host = env["TODO_PG_HOST"] ?? "127.0.0.1"
        let port = env["TODO_PG_PORT"].flatMap { Int($0) } ?? 5432
        let user = env["TODO_PG_USER"] ?? "postgres"
        let database = env["TODO_PG_DATABASE"] ?? user
        if host.hasPrefix("/") {
            return .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: nil, database: database)
        }
        return .init(host: host, port: port, username: user, password: nil, database: database, tls: .disable)
    }

    static let logger = Logger(label: "todo-postgres")

    static func connect(_ environment: [(String, String)]) async throws -> PostgresConnection {
        try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(),
                                             configuration: configuration(environment), id: 1, logger: logger)
    }

    /// The worker's connection, opened in setUp.
    final class Store {
        var connection: PostgresConnection?

        var db: PostgresConnection {
            get throws {
                guard let connection else { throw HTTPError(.serviceUnavailable, "no database connection") }
                return connection
            }
        }

        func todo(_ id: Int) async throws -> Todo {
            let rows = try await db.query("SELECT id, title, done FROM todos WHERE id = \(id)", logger: TodoApp.logger)
            for try await (id, title, done) in rows.decode((Int, String, Bool).self) {
                return Todo(id: id, title: title, done: done)
            }
            throw HTTPError(.notFound, "no todo \(id)")
        }
    }

    static func router() -> Router {
        let router = Router()
        let store = Store()

        router.onPrepare { pool in
            let connection = try await connect(pool.environment)
            do {
                try await connection.query("CREATE TABLE IF NOT EXISTS todos (id serial PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false)", logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        }
        router.onSetUp { worker in
            store.connection = try await connect(worker.environment)
        }
        router.onTearDown {
            try? await store.connection?.close()
            store.connection = nil
        }

        router.get("/todos") { _, response async throws in
            let rows = try await store.db.query("SELECT id, title, done FROM todos ORDER BY id", logger: logger)
            var todos: [Todo] = []
            for try await (id, title, done) in rows.decode((Int, String, Bool).self) {
                todos.append(Todo(id: id, title: title, done: done))
            }
            try response.json(todos)
        }
        router.post("/todos") { request, response async throws in
            let new = try request.decode(NewTodo.self)
            guard !new.title.isEmpty, new.title.utf8.count <= 500 else { throw HTTPError(.badRequest, "a title is 1 to 500 bytes") }
            let rows = try await store.db.query("INSERT INTO todos (title) VALUES (\(new.title)) RETURNING id, title, done", logger: logger)
            for try await (id, title, done) in rows.decode((Int, String, Bool).self) {
                try response.json(Todo(id: id, title: title, done: done), status: .created)
                return
            }
            throw HTTPError(.internalServerError, "the insert returned no row")
        }
        router.get("/todos/:id") { request, response async throws in
            try response.json(try await store.todo(request.parameters.require("id", as: Int.self)))
        }
        router.patch("/todos/:id") { request, response async throws in
            let id = try request.parameters.require("id", as: Int.self)
            let change = try request.decode(TodoChange.self)
            var todo = try await store.todo(id)
            if let title = change.title { todo.title = title }
            if let done = change.done { todo.done = done }
            try await store.db.query("UPDATE todos SET title = \(todo.title), done = \(todo.done) WHERE id = \(id)", logger: logger)
            try response.json(todo)
        }
        router.delete("/todos/:id") { request, response async throws in
            let id = try request.parameters.require("id", as: Int.self)
            let rows = try await store.db.query("DELETE FROM todos WHERE id = \(id) RETURNING id", logger: logger)
            var deleted = false
            for try await _ in rows.decode(Int.self) { deleted = true }
            guard deleted else { throw HTTPError(.notFound, "no todo \(id)") }
            response.status = .noContent
        }
        return router
    }
}
