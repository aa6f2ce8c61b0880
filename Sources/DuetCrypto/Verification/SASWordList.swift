/// The 256 words a short authentication string is spelled with: distinct, common, easy to
/// say aloud and hard to mishear. Index = byte value, so one word carries 8 bits.
enum SASWordList {
    static let words: [String] = [
        "acid", "acorn", "actor", "adobe", "agent", "alarm", "album", "alley", "amber", "anchor",
        "angel", "ankle", "apple", "apron", "arena", "armor", "arrow", "aspen", "atlas", "attic",
        "audio", "autumn", "avenue", "badge", "bagel", "baker", "bamboo", "banjo", "barley", "barrel",
        "basket", "beacon", "beaver", "bench", "berry", "bishop", "blanket", "blossom", "border", "bottle",
        "bracket", "branch", "breeze", "brick", "bridge", "bronze", "brush", "bubble", "bucket", "bugle",
        "button", "cabin", "cactus", "camel", "canal", "candle", "canoe", "canyon", "carbon", "carpet",
        "castle", "cedar", "cellar", "chalk", "cherry", "chess", "cider", "circle", "citrus", "clover",
        "cobalt", "comet", "copper", "coral", "cotton", "cousin", "coyote", "crater", "cricket", "crystal",
        "curtain", "daisy", "dancer", "delta", "desert", "diamond", "dinner", "dolphin", "donkey", "dragon",
        "drum", "eagle", "echo", "elbow", "ember", "engine", "falcon", "feather", "fence", "ferry",
        "fiddle", "finch", "flag", "flute", "forest", "fossil", "fox", "galaxy", "garden", "garlic",
        "gazelle", "geyser", "ginger", "glacier", "goblet", "gopher", "granite", "grape", "gravel", "guitar",
        "hammer", "harbor", "harvest", "hazel", "helmet", "hermit", "hockey", "honey", "horizon", "hornet",
        "iceberg", "igloo", "island", "ivory", "jacket", "jaguar", "jelly", "jigsaw", "jungle", "kayak",
        "kernel", "kettle", "kitten", "koala", "ladder", "lagoon", "lantern", "lemon", "lentil", "leopard",
        "lilac", "lizard", "llama", "lobster", "locket", "lotus", "magnet", "mango", "maple", "marble",
        "meadow", "melon", "meteor", "mirror", "mitten", "monkey", "mosaic", "muffin", "mustard", "napkin",
        "nectar", "needle", "nickel", "noodle", "nutmeg", "oasis", "ocean", "olive", "onion", "orange",
        "orchid", "otter", "oyster", "paddle", "palace", "panda", "parrot", "peach", "pebble", "pepper",
        "piano", "pickle", "pigeon", "pillow", "pilot", "planet", "plum", "pocket", "pony", "poppy",
        "potato", "puzzle", "quartz", "quill", "rabbit", "radar", "radish", "raven", "ribbon", "river",
        "robin", "rocket", "saddle", "salmon", "sandal", "satin", "scarf", "shadow", "shovel", "silver",
        "sketch", "sparrow", "spider", "spruce", "squid", "statue", "sugar", "summit", "sunset", "swan",
        "tablet", "tango", "teapot", "temple", "thunder", "tiger", "timber", "toast", "tomato", "topaz",
        "tower", "tractor", "trumpet", "tulip", "tundra", "turtle", "valley", "velvet", "violin", "volcano",
        "wagon", "walnut", "walrus", "whale", "willow", "window"
    ]
}
