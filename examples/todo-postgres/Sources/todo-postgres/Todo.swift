/// A todo as the API sends it.
struct Todo: Codable, Equatable {
    var id: Int
    var title: String
    var done: Bool
}

/// `POST /todos`'s body.
struct NewTodo: Decodable {
    var title: String
}

/// `PATCH /todos/:id`'s body: the fields to change.
struct TodoChange: Decodable {
    var title: String?
    var done: Bool?
}
