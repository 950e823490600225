"""The held-out evaluation prompts: never used for training.

Written by hand before any model was trained, as a separate list of synonyms,
paraphrases, situations, compounds, negations and other-language words for the
basic emotions, and of text with no emotion.  :mod:`visemo.train.emotion_dataset`
checks that none of these texts occurs in the training data, and that no
single held-out *word* (sets ``words`` and ``languages``) occurs as a word of
any training prompt.  Paraphrases and situations may share ordinary words with
training prompts ("feeling", "face"); the benchmark reports which ones
contain a training emotion word.

Each basic-emotion set is {label: (prompt, ...)}.  Licence: CC0-1.0.
"""

from __future__ import annotations

WORDS: dict[str, tuple[str, ...]] = {
    "happy": ("jubilant", "gleeful", "overjoyed", "exuberant", "chipper", "buoyant", "radiant",
              "cheery", "exultant", "jovial", "blithe", "sunny", "lighthearted", "carefree",
              "tickled pink"),
    "sad": ("woeful", "doleful", "heavy-hearted", "crushed", "dismal", "bummed", "mopish",
            "sorrowing", "lamenting", "morose", "gutted", "dispirited", "disconsolate", "tearstained"),
    "angry": ("irked", "indignant", "seething with rage", "irascible", "riled up", "steaming",
              "fiery", "hot under the collar", "apoplectic with rage", "wrathy", "testy", "snappish",
              "ill-tempered", "ballistic"),
    "fearful": ("frightful", "afeared", "panicky", "quaking", "trembling with fear", "cowering",
                "skittish", "shaky with dread", "horror-struck", "fainthearted", "timorous",
                "unnerved", "spooked out of my mind", "white as a sheet"),
    "surprised": ("astonied", "agape", "open-mouthed", "dazed with surprise", "floored",
                  "bowled over", "jaw on the floor", "wide-eyed", "nonplussed", "surprized",
                  "stunned silent", "startled out of my skin", "eyebrows shooting up", "agog"),
    "disgusted": ("nauseous", "skeeved out", "squeamish", "revulsed", "sickened to the core", "yucky",
                  "eww gross", "stomach-turning", "icky", "gagging", "retching", "vile",
                  "repugnance", "loathsome"),
    "contemptuous": ("sniffy", "uppity", "high-and-mighty", "snooty", "hoity-toity", "lofty",
                     "scoffing", "deriding", "belittling", "sneery", "stuck-up", "pompous",
                     "looking down my nose", "disparaging"),
}

PARAPHRASES: dict[str, tuple[str, ...]] = {
    "happy": ("grinning from ear to ear", "could not stop beaming with delight",
              "the best day of my life", "my heart is singing", "full of sunshine inside",
              "feeling on top of the world", "delighted beyond words", "laughing with pure joy"),
    "sad": ("my heart is heavy", "feeling like crying", "the world feels grey and empty",
            "tears welling up in my eyes", "a lump in my throat", "everything feels pointless",
            "missing someone terribly", "feeling really low today"),
    "angry": ("ready to explode with rage", "blood boiling", "gritting my teeth in anger",
              "about to lose it and shout", "steam coming out of my ears", "absolutely fed up and mad",
              "clenching my fists in anger", "so mad i could scream"),
    "fearful": ("my heart is pounding with dread", "too scared to move", "shaking like a leaf",
                "afraid something terrible will happen", "frozen with terror", "my blood ran cold",
                "heart in my throat with fear", "scared out of my mind"),
    "surprised": ("i can't believe my eyes", "eyes wide and mouth open", "totally caught off guard",
                  "didn't see that coming", "what a surprise", "jaw dropped in amazement",
                  "knocked for six", "completely astonished by it"),
    "disgusted": ("that smell makes me want to vomit", "my stomach turns", "absolutely revolting",
                  "that is so gross", "wrinkling my nose at the stench", "it makes me sick",
                  "repulsive and foul", "that's nasty"),
    "contemptuous": ("rolling my eyes at them", "looking down on everyone", "they are beneath me",
                     "sneering at his pathetic attempt", "with a superior smirk",
                     "utterly unimpressed and dismissive", "curling my lip in scorn",
                     "treating them like dirt"),
}

SITUATIONS: dict[str, tuple[str, ...]] = {
    "happy": ("my sister just had a healthy baby", "got an unexpected raise", "the sun came out at the picnic",
              "reunited with my family at the airport"),
    "sad": ("my grandfather is in hospital and not getting better", "my cat ran away and never came back",
            "the last day before my friend moves abroad", "my partner broke up with me"),
    "angry": ("the mechanic overcharged me on purpose", "someone stole my bike", "my roommate ate my food again",
              "the customer service hung up on me"),
    "fearful": ("a bear is walking toward our tent", "the lights went out and something moved",
                "the brakes stopped working on the highway", "lost in the forest at night"),
    "surprised": ("my parents showed up unannounced", "a letter from someone i thought was gone",
                  "the magician made the card appear in my pocket", "bumped into my teacher at the beach"),
    "disgusted": ("the toilet on the train is filthy", "there's mold all over the bread",
                  "a cockroach crawled out of my salad", "someone sneezed on my food"),
    "contemptuous": ("my rival bragging about a cheap trophy", "a rich snob mocking the waiter",
                     "a pompous critic who has never made anything", "a cheater pretending to be honest"),
}

LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "fr": {"happy": ("ravie", "enjoué", "gai"), "sad": ("chagrinée", "attristé", "navré"),
           "angry": ("furibond", "exaspéré", "irritée"), "fearful": ("terrorisé", "craintive", "affolé"),
           "surprised": ("abasourdi", "ébahie", "estomaqué"), "disgusted": ("écœurée", "répugné"),
           "contemptuous": ("hautain", "condescendant")},
    "de": {"happy": ("fröhliche", "heiter", "glückselig"), "sad": ("betrübte", "schwermütig", "bekümmert"),
           "angry": ("erzürnt", "aufgebracht", "sauer"), "fearful": ("furchtsam", "verängstigte", "panisch vor Angst"),
           "surprised": ("verwundert", "baff", "perplex"), "disgusted": ("angeekelte", "voller Abscheu"),
           "contemptuous": ("hochnäsig", "abfällig")},
    "es": {"happy": ("dichoso", "jubiloso", "alegría inmensa"), "sad": ("afligido", "apesadumbrado", "acongojado"),
           "angry": ("colérico", "furibundo", "indignada"), "fearful": ("temeroso", "despavorido", "atemorizado"),
           "surprised": ("alucinado", "anonadado", "sorprendida"), "disgusted": ("asqueada", "repugnancia"),
           "contemptuous": ("altivo", "desdeñosa")},
    "it": {"happy": ("gioioso", "lieto", "contentissimo"), "sad": ("afflitto", "mesto", "rattristato"),
           "angry": ("irato", "furibondo", "arrabbiata"), "fearful": ("timoroso", "atterrito", "impaurita"),
           "surprised": ("stupefatto", "meravigliata", "attonito"), "disgusted": ("nauseata", "schifo"),
           "contemptuous": ("altezzoso", "sprezzante con sufficienza")},
    "pt": {"happy": ("contentíssimo", "jubiloso", "alegrinho"), "sad": ("aflito", "entristecido", "amargurado"),
           "angry": ("irado", "furiosa", "revoltado"), "fearful": ("amedrontado", "temeroso", "assustada"),
           "surprised": ("espantada", "atônito", "admirado com a surpresa"), "disgusted": ("enojado de nojo", "repugnante"),
           "contemptuous": ("altivo", "desdenhosa")},
}

# Compounds: (prompt, (label of the adjective, label of the adverb/second part)).
COMPOUNDS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("joyfully astonished", ("surprised", "happy")), ("sorrowfully shocked", ("surprised", "sad")),
    ("furiously disgusted", ("disgusted", "angry")), ("nervously amused", ("happy", "fearful")),
    ("mournfully angry", ("angry", "sad")), ("fearfully astonished", ("surprised", "fearful")),
    ("scornfully amused", ("happy", "contemptuous")), ("angrily astonished", ("surprised", "angry")),
    ("gleefully surprised", ("surprised", "happy")), ("tearfully angry", ("angry", "sad")),
    ("happy yet scared", ("happy", "fearful")), ("sad but smiling", ("sad", "happy")),
    ("angry and afraid", ("angry", "fearful")), ("disgusted and furious", ("disgusted", "angry")),
    ("shocked and sad", ("surprised", "sad")), ("scared and disgusted", ("fearful", "disgusted")),
)

# Negations: (prompt, label negated).  Correct when the result is not that emotion
# (a negated "happy" may read as sad or neutral).
NEGATIONS: tuple[tuple[str, str], ...] = (
    ("not furious", "angry"), ("not irritated at all", "angry"), ("not scared", "fearful"),
    ("not terrified", "fearful"), ("not sad anymore", "sad"), ("not heartbroken", "sad"),
    ("not disgusted", "disgusted"), ("not happy", "happy"), ("not cheerful", "happy"),
    ("not surprised", "surprised"), ("not shocked", "surprised"), ("not nervous", "fearful"),
    ("not contemptuous", "contemptuous"), ("i am not angry", "angry"), ("never angry", "angry"),
    ("pas en colère", "angry"), ("nicht wütend", "angry"), ("no estoy triste", "sad"),
    ("non arrabbiato", "angry"), ("não estou com medo", "fearful"),
)

# Text that names no emotion: must be reported (PromptError), not mapped.
NEGATIVES: tuple[str, ...] = (
    "the table is brown", "asdfgh", "a red bicycle", "the door is closed", "five oranges in a bowl",
    "the bus arrives at noon", "turn right after the bridge", "mix the eggs with sugar",
    "berlin is in germany", "the report is due on monday", "the screen resolution is 1080p",
    "a metal spoon", "the carpet is grey", "the elevator is on floor six", "sort the list alphabetically",
    "la table est marron", "der Tisch ist braun", "la mesa es marrón", "il tavolo è marrone",
    "a mesa é marrom", "qwertyuiop", "ghjkl", "zzzz", "mnbvcx", "plorf", "xkcd 927", "dfgdfg",
    "wlkjwe qpoeiru", "0000", "audio_take_07.wav", "insert coin", "the meeting room",
)
