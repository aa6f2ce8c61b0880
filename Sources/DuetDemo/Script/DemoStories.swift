/// The stories compiled into `duet` (their files are in Assets/demo).
public enum DemoStories {
    /// The default story of `duet demo`: every promise docs/demo.md lists, checked.
    public static let tour = String(decoding: PackageResources.tour_duet, as: UTF8.self)
}
