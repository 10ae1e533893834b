"""A few CSS colour names accepted in taxonomy files (hex is always accepted)."""

NAMED_COLORS = {
    "black": "#000000", "white": "#ffffff", "red": "#ff0000", "green": "#008000",
    "lime": "#00ff00", "blue": "#0000ff", "yellow": "#ffff00", "cyan": "#00ffff",
    "magenta": "#ff00ff", "orange": "#ffa500", "purple": "#800080", "pink": "#ffc0cb",
    "brown": "#a52a2a", "gray": "#808080", "grey": "#808080", "olive": "#808000",
    "navy": "#000080", "teal": "#008080", "maroon": "#800000", "gold": "#ffd700",
    "violet": "#ee82ee", "indigo": "#4b0082", "salmon": "#fa8072", "coral": "#ff7f50",
    "turquoise": "#40e0d0", "skyblue": "#87ceeb", "tomato": "#ff6347",
    "transparent": "#00000000",
}
