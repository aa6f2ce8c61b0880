extension OggOpusReader {
    /// How much of the front of an Ogg stream is whole pages: what a stream cut short (a
    /// recording that stopped mid-page) can still be played up to.
    public struct WholePages: Equatable, Sendable {
        /// Bytes of complete pages, checksums intact, from the start.
        public let length: Int
        /// True when what follows `length` is the start of a page cut short (more bytes may
        /// complete it); false when it is not an Ogg page at all, or nothing follows.
        public let cutShort: Bool
    }

    /// Scans `bytes` page by page without decoding anything; never throws: the first byte
    /// that does not continue a whole page ends the scan.
    public static func wholePages(_ bytes: [UInt8]) -> WholePages {
        var offset = 0
        while offset < bytes.count {
            do {
                offset = try OggPage.parse(bytes, at: offset).next
            } catch {
                if case .truncated = error { return WholePages(length: offset, cutShort: true) }
                return WholePages(length: offset, cutShort: false)
            }
        }
        return WholePages(length: offset, cutShort: false)
    }
}
