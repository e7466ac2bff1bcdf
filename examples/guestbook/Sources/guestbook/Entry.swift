import Foundation
import GRDB

/// One signed line of the guestbook.
struct Entry: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "entry"
    var id: Int64?
    var name: String
    var message: String
    var createdAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// The schema, applied once per pool generation by the router's `onPrepare`, before any
    /// worker opens the database (workers migrating in their own setUp raced on a fresh file).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "entry", ifNotExists: true) { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("message", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
        }
        return migrator
    }
}
