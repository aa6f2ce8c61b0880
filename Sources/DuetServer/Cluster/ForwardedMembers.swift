/// On the node holding rooms: the members other nodes brought in, by the node that forwarded
/// their requests (docs/deployment.md "Rooms"). When that node dies its devices' signaling
/// went with it and nobody is left to say they left: the holder drops them itself, as it
/// drops a device of its own whose connection closed.
actor ForwardedMembers {
    private var numbers: [String: Set<String>] = [:]
    private var keys: [String: Set<[UInt8]>] = [:]

    /// `number` (a group call's member) came in through `origin`, or left.
    func update(number: String, origin: String, isIn: Bool) {
        if isIn { numbers[origin, default: []].insert(number) } else { numbers[origin]?.remove(number) }
        if numbers[origin]?.isEmpty == true { numbers[origin] = nil }
    }

    /// `key` (a meeting's participant or knocker) came in through `origin`, or left.
    func update(key: [UInt8], origin: String, isIn: Bool) {
        if isIn { keys[origin, default: []].insert(key) } else { keys[origin]?.remove(key) }
        if keys[origin]?.isEmpty == true { keys[origin] = nil }
    }

    /// The members brought by nodes not among `live`, forgotten here.
    func orphaned(keeping live: Set<String>) -> (numbers: Set<String>, keys: Set<[UInt8]>) {
        let deadNumbers = numbers.keys.filter { !live.contains($0) }
        let deadKeys = keys.keys.filter { !live.contains($0) }
        defer {
            for origin in deadNumbers { numbers[origin] = nil }
            for origin in deadKeys { keys[origin] = nil }
        }
        return (Set(deadNumbers.flatMap { numbers[$0] ?? [] }), Set(deadKeys.flatMap { keys[$0] ?? [] }))
    }
}
