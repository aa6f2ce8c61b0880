import Testing

@testable import DuetCrypto

/// `SecureArena`: where every secret's bytes live (docs/ARCHITECTURE.md "Secrets").
@Suite("SecureArena")
struct SecureArenaTests {
    /// A released slot is zeroed whole — not only the bytes the secret used — and the next
    /// secret of that size gets it back without a new mapping.
    @Test func aReleasedSlotIsZeroedWholeAndReused() {
        let arena = SecureArena()
        let slot = arena.allocate(48)
        slot.initializeMemory(as: UInt8.self, repeating: 0xA5, count: 64)
        arena.release(slot, count: 48)
        // The region stays mapped for the arena's life, so the slot can be read after release.
        #expect(Array(UnsafeRawBufferPointer(start: slot, count: 64)) == [UInt8](repeating: 0, count: 64))
        let free = arena.freeSlots
        let again = arena.allocate(40)
        #expect(again == slot)
        #expect(arena.freeSlots.reduce(0, +) == free.reduce(0, +) - 1)
        arena.release(again, count: 40)
    }

    /// Each size takes the smallest slot that holds it; live slots never overlap.
    @Test func liveSlotsNeverOverlap() {
        let arena = SecureArena()
        let sizes = (0..<3000).map { [1, 16, 32, 33, 64, 100, 200, 256, 300, 512][$0 % 10] }
        let slots = sizes.map { arena.allocate($0) }
        let ranges = zip(slots, sizes).map { UInt(bitPattern: $0)..<(UInt(bitPattern: $0) + UInt($1)) }.sorted {
            $0.lowerBound < $1.lowerBound
        }
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound <= $1.lowerBound })
        for (slot, size) in zip(slots, sizes) { arena.release(slot, count: size) }
    }

    /// A secret larger than the largest slot gets a mapping of its own, zeroed and freed on release.
    @Test func aLargeSecretGetsItsOwnMapping() {
        let arena = SecureArena()
        let before = arena.freeSlots
        let large = arena.allocate(4096)
        large.initializeMemory(as: UInt8.self, repeating: 0x5A, count: 4096)
        #expect(arena.freeSlots == before)
        arena.release(large, count: 4096)
        let secret = SecureBytes(copying: [UInt8](repeating: 7, count: 2000))
        #expect(secret.withUnsafeBytes { Array($0) } == [UInt8](repeating: 7, count: 2000))
    }

    /// Threads taking and giving back slots at once never get the same live slot.
    @Test func concurrentUseHandsEachSlotToOneOwner() async {
        let arena = SecureArena()
        let addresses = await withTaskGroup(of: [UInt].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var held: [UnsafeMutableRawPointer] = []
                    for round in 0..<2000 {
                        held.append(arena.allocate(32))
                        if round % 3 == 2 { arena.release(held.removeFirst(), count: 32) }
                    }
                    let addresses = held.map { UInt(bitPattern: $0) }
                    return addresses
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(addresses).count == addresses.count)
    }
}
