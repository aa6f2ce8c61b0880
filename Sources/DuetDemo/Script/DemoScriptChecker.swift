/// Checks a script's commands in order against what the lines before them declared: every
/// device, guest and group named exists, guests are never registered, a meeting exists before
/// anyone joins it. What can only be known while running (is bob ringing?) is the runner's.
struct DemoScriptChecker {
    private var devices: Set<String> = []
    private var guests: Set<String> = []
    private var registered: Set<String> = []
    private var groups: Set<String> = []
    private var numbers: Set<String> = []
    private var meeting = false

    mutating func check(_ command: DemoCommand) throws(DemoParseFailure) {
        switch command {
        case .say, .wait: break
        case let .devices(declared): try declare(declared)
        case let .guests(names):
            for name in names {
                try fresh(name)
                guests.insert(name)
            }
        case let .register(names): try register(names)
        case let .contacts(names): for name in names { try registeredDevice(name) }
        case let .verify(a, b):
            try registeredDevice(a)
            try registeredDevice(b)
        case let .call(caller, callee, relay):
            try registeredDevice(caller)
            if groups.contains(callee) {
                if relay { throw DemoParseFailure("call: group calls go through the SFU; 'relay' is for 1:1 calls") }
            } else {
                try registeredDevice(callee)
                if caller == callee { throw DemoParseFailure("call: \(caller) cannot call itself") }
            }
        case let .groupCall(caller, group):
            try registeredDevice(caller)
            try knownGroup(group)
        case let .answer(name), let .join(name), let .hangUp(name):
            try registeredDevice(name)
        case let .leave(name), let .mute(name, _):
            try anyDevice(name)
        case let .groupCreate(group, owner, members):
            try fresh(group)
            try registeredDevice(owner)
            for member in members { try registeredDevice(member) }
            if members.contains(owner) { throw DemoParseFailure("group create: \(owner) owns \(group); list only the other members") }
            groups.insert(group)
        case let .groupAdd(group, member), let .groupRemove(group, member):
            try knownGroup(group)
            try registeredDevice(member)
        case let .meetingCreate(host, _, _):
            try registeredDevice(host)
            meeting = true
        case let .meetingJoin(name), let .meetingAdmit(name, _), let .meetingRecord(name, _):
            try anyDevice(name)
            try meetingExists()
        case .export:
            try meetingExists()
        case let .expect(expectation):
            try check(expectation)
        }
    }

    private mutating func declare(_ declared: [DemoCommand.DeviceDeclaration]) throws(DemoParseFailure) {
        for device in declared {
            try fresh(device.name)
            if let number = device.number {
                guard numbers.insert(number).inserted else { throw DemoParseFailure("devices: \(number) is given twice") }
            }
            devices.insert(device.name)
        }
    }

    private mutating func register(_ names: [String]) throws(DemoParseFailure) {
        for name in names {
            if guests.contains(name) { throw DemoParseFailure("register: \(name) is a guest; guests join meetings without registering") }
            try device(name)
            registered.insert(name)
        }
    }

    private mutating func check(_ expectation: DemoExpectation) throws(DemoParseFailure) {
        switch expectation {
        case let .hears(listener, speakers), let .hearsNot(listener, speakers):
            try anyDevice(listener)
            for speaker in speakers {
                try anyDevice(speaker)
                if speaker == listener { throw DemoParseFailure("expect: \(listener) does not hear itself; name the others") }
            }
        case let .path(name, _): try registeredDevice(name)
        case let .sees(a, b):
            if a == b { throw DemoParseFailure("expect sees: \(a) does not see itself; name someone in its call or meeting") }
            try anyDevice(a)
            try anyDevice(b)
        case let .sas(a, b):
            try registeredDevice(a)
            try registeredDevice(b)
        case .ciphertext: break
        case let .serverHears(names), let .recording(names):
            try meetingExists()
            for name in names { try anyDevice(name) }
        case let .rekey(names), let .inCall(names): for name in names { try registeredDevice(name) }
        case let .wiped(names): for name in names { try anyDevice(name) }
        }
    }

    /// The call a `call` line makes: a group call when the callee names a group.
    static func resolve(_ command: DemoCommand, groups: Set<String>) -> DemoCommand {
        if case let .call(caller, callee, false) = command, groups.contains(callee) { return .groupCall(caller: caller, group: callee) }
        return command
    }

    var groupNames: Set<String> { groups }

    private func fresh(_ name: String) throws(DemoParseFailure) {
        guard !devices.contains(name), !guests.contains(name), !groups.contains(name) else {
            throw DemoParseFailure("'\(name)' is already a device, guest or group of this script; choose another name")
        }
    }

    private func anyDevice(_ name: String) throws(DemoParseFailure) {
        guard devices.contains(name) || guests.contains(name) else {
            throw DemoParseFailure("'\(name)' is not a device of this script (declare it with 'devices' or 'guests')")
        }
    }

    private func device(_ name: String) throws(DemoParseFailure) {
        guard devices.contains(name) else {
            throw DemoParseFailure("'\(name)' is not a device of this script (declare it with 'devices')")
        }
    }

    private func registeredDevice(_ name: String) throws(DemoParseFailure) {
        try device(name)
        guard registered.contains(name) else {
            throw DemoParseFailure("\(name) is not registered yet: add 'register \(name)' before this line")
        }
    }

    private func knownGroup(_ name: String) throws(DemoParseFailure) {
        guard groups.contains(name) else {
            throw DemoParseFailure("'\(name)' is not a group of this script (make it with 'group create')")
        }
    }

    private func meetingExists() throws(DemoParseFailure) {
        guard meeting else { throw DemoParseFailure("there is no meeting yet: add 'meeting create HOST' before this line") }
    }
}
