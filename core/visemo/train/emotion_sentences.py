"""Whole sentences for the emotion/no-emotion head: plain statements (no emotion) and emotional lines.

The word-and-phrase lexicon teaches the text space *which* emotion a prompt
names; it taught the emotion head "not an emotion" with short, odd negatives
only ("the chair is red", keyboard mashes), so ordinary sentences — narration,
instructions, small talk — read as emotions.  This table adds:

* :func:`neutral_sentences`: emotion-free sentences in en, fr, de, es, it, pt —
  everyday statements, instructions, facts, book-style narration, dialogue
  lines without feeling, questions about logistics and short descriptions of
  objects ("a plastic bucket") — from templates ×
  vocabulary (seeded) plus hand-written ones (``is_emotion: false``);
* :func:`emotional_lines`: lines a character says when happy, sad, angry,
  fearful, surprised, disgusted or contemptuous — hand-written ones plus
  interjection × event combinations — labelled with their basic emotion
  (``is_emotion: true``, the basic emotion's action units).

All written by the visemo authors for this purpose (no corpus, no language
model).  :mod:`visemo.train.emotion_dataset` filters them like the large
lexicon (held-out prompts, held-out words and their relatives, two shared
content words with a held-out paraphrase or situation) and refuses any that
equals a sentence of ``benchmarks/bench_auto_emotion.py`` (the evaluation set
of ``--emotion auto``).  Licence: CC0-1.0.
"""

from __future__ import annotations

import random

# ---------------------------------------------------------------------------------------------- neutral
NEUTRAL_EN: tuple[str, ...] = (
    # everyday statements
    "the bakery on the corner opens at seven", "my cousin works at the post office",
    "the blue folder is on top of the filing cabinet", "we usually eat dinner around eight",
    "the recycling is collected on wednesdays", "the tap in the bathroom drips a little",
    "i bought bread, cheese and a bag of apples", "the car needs new tyres before winter",
    "the school is two streets away from our flat", "there is a spare key under the mat",
    "the museum is free on the first sunday of the month", "the shop sells paint and garden tools",
    "our neighbours have two cats and a parrot", "the heating comes on at six in the morning",
    "i left the umbrella in the hall", "the bus was ten minutes late this morning",
    "the new shelves arrived in three boxes", "he works nights at the warehouse",
    "the lift is out of order, use the stairs", "i'll take the early shift on friday",
    "the café serves soup until three", "the parcel is at the neighbour's house",
    "she teaches geography at the secondary school", "the bins go out on tuesday night",
    "my phone battery is at forty percent", "the kettle is next to the toaster",
    # instructions
    "unscrew the back panel and remove the battery", "fill in the form in block capitals",
    "press the green button twice to start the machine", "keep the receipt for the warranty",
    "store the paint in a cool, dry place", "cut the onions into thin slices",
    "plug the cable into the port on the left", "water the plants once a week",
    "sign at the bottom of the second page", "bring a copy of your passport to the appointment",
    "preheat the oven to two hundred degrees", "fold the towels and put them in the cupboard",
    "write your name at the top of the sheet", "switch off the lights when you leave the room",
    "stay on the motorway until the exit for the airport", "wash the brushes with warm water",
    "update the spreadsheet before the end of the day", "leave the boxes by the back door",
    "attach the invoice to the email", "count the chairs in the hall before the talk",
    # facts
    "the earth goes round the sun once a year", "copper is a good conductor of electricity",
    "a week has seven days", "the pacific is the largest ocean", "spiders have eight legs",
    "mount everest is in the himalayas", "the human heart has four chambers",
    "sound travels faster in water than in air", "the alphabet has twenty six letters",
    "glass is made mostly from sand", "the moon has no atmosphere to speak of",
    "bees collect nectar from flowers", "iron rusts when it gets wet", "a triangle has three sides",
    "the danube flows into the black sea", "oak trees can live for hundreds of years",
    "the city has a population of about two million", "ice floats because it is less dense than water",
    # book-style narration
    "the coach rolled into the village shortly after noon", "he folded the map and put it in his coat",
    "the house had been empty for several years", "the steward brought the accounts to the study",
    "they crossed the field and followed the hedge to the lane", "the clock in the hall struck eleven",
    "she lit the candle on the windowsill", "the farm lay a mile beyond the church",
    "his father had been a merchant in the town", "the rooms on the upper floor were let to a clerk",
    "the boat was pulled up on the shingle", "the guests were shown into the drawing room",
    "the miller's son carried the sacks to the cart", "a stone wall separated the two fields",
    "in the spring the family went to stay with an aunt", "the old colonel owned most of the land by the river",
    "the widow had three daughters and a small income", "the dinner was served at five o'clock",
    "he took up the newspaper and read the shipping news", "the estate was let to a family from the north",
    "the young man had studied law for two years", "the parish had a school and a small library",
    "the horses were changed at the inn", "the lady of the house received visitors on tuesdays",
    "he had lived in that street since he was a boy", "the mail coach left at six every morning",
    "their cottage stood at the edge of the common", "the agent arrived with the papers in the afternoon",
    "the gentleman was the second son of a country family", "the ship anchored in the bay for two days",
    "the brothers divided the property between them", "his income was four hundred a year",
    "the housekeeper kept the keys to every room", "they spent the winter in bath",
    "she was the eldest of five children", "he was considered a sensible man by his neighbours",
    "the curate was a tall man of about thirty", "her mother had been the daughter of a clergyman",
    "the family had long been settled in the county", "he had bought the house from a retired sailor",
    "the two families had known each other for many years", "the vicar dined with them every sunday",
    # narration: weather, visits, reports, history, a character's station and habits
    "it snowed for most of the week", "the wind dropped towards evening", "a fog lay over the fields until noon",
    "the frost had not lifted by ten o'clock", "there was a light shower after lunch", "the summer was dry that year",
    "the plumber came on tuesday and again on friday", "the nurse visits every other morning",
    "the inspector stayed for an hour and then left for the next farm", "the postman comes before eight",
    "the survey lists the shops in each district", "the second chapter describes the harbour and its trade",
    "the accounts show the rents collected over three years", "the study compares two methods of drying grain",
    "the table gives the population of each parish", "the notes explain how the figures were collected",
    "the abbey was rebuilt after the great fire", "the canal was opened to boats in the spring of that year",
    "the town grew quickly once the railway arrived", "the chapel was enlarged in the last century",
    "he was a prudent man of business", "his wife was the daughter of a wealthy lawyer",
    "the elder brother managed the farm and the younger went to sea", "she was thought clever by those who knew her",
    "he had been an industrious young clerk", "the squire was a tall man of sixty who rode every day",
    "his uncle was a bachelor with a good income", "she was well read and fond of walking",
    "he was careful with money and kept exact accounts", "the new tenant was a retired naval officer",
    "she had a reputation for punctuality", "he was reserved in company and spoke little",
    "the eldest daughter was engaged to a clergyman", "the family had four servants and a gardener",
    "he might have bought the larger house, had his income allowed it",
    "she had been left a small sum by her godmother", "his opinions on farming were much quoted in the county",
    "the young lady had lived abroad for some years", "her father had been in trade before he bought the estate",
    # dialogue without feeling
    "can you pass me the salt", "i'll be there at half past six", "did you pay the gas bill",
    "the keys are on the hook by the door", "let's meet outside the cinema", "i think it's the third house on the left",
    "put it on my account, please", "shall i bring the chairs in from the garden", "he said he'd call around four",
    "we can take my car if you like", "i need the report by monday morning", "two coffees and a tea, please",
    "i'll send you the address later", "the printer is out of paper again", "ask the driver where to get off",
    "the small room is free after two", "put the milk back in the fridge", "we're out of sugar",
    "i've booked a table for four", "you'll need a ticket for the car park", "the form is on the website",
    "tell her the meeting starts at ten", "i'll pick up the kids from school", "can you hold the ladder for a second",
    # questions about logistics
    "what time does the pharmacy close", "where is the nearest cash machine", "how many plates do we need",
    "is the conference room free this afternoon", "could you send me the slides by friday",
    "which bus goes to the town hall", "do we need to book in advance", "how long does the ferry take",
    "who has the key to the storeroom", "when is the next delivery due", "do we pay for parking separately",
    "which floor is the accounts department on", "can i pay by card", "what is the wifi password",
    "how far is the station from the hotel", "should i print the tickets or show them on my phone",
    "do you have this shirt in a larger size", "is there a lift in the building", "when does the course start",
)

# templates × vocabulary
_EN_NAMES = ("anna", "thomas", "mr carter", "mrs hill", "the clerk", "the farmer", "my uncle", "the porter",
             "the captain", "her brother", "the landlord", "our neighbour", "the teacher", "the driver",
             "the old gardener", "miss price", "the young lawyer", "the cook", "the stranger", "his cousin")
_EN_ACTS = ("closed the shutters", "counted the coins", "folded the letter", "wrote two letters", "fed the horses",
            "sold the cart", "painted the fence", "crossed the square", "read the notice", "locked the shed",
            "carried the bags upstairs", "hung the coat on the hook", "lit the stove", "set the table",
            "sharpened the pencils", "swept the yard", "mended the chair", "checked the timetable",
            "paid the bill", "opened the gate", "tied up the boat", "filled the lamps", "sorted the post",
            "weighed the flour", "took the bus into town", "walked to the harbour",
            "went down to the cellar", "rang the bell", "copied the figures into the ledger")
_EN_WHEN = ("before noon", "in the evening", "on monday", "after breakfast", "at nine", "the next morning",
            "after lunch", "on the way home", "at the end of the week", "early in the day", "that afternoon",
            "before the rain", "on saturday", "at half past four", "in the autumn")
_EN_THINGS = ("stapler", "ladder", "suitcase", "spare tyre", "toolbox", "charger", "dictionary", "kettle",
              "tape measure", "extension cable", "watering can", "first aid kit", "calendar", "torch", "scissors")
_EN_WHERE = ("in the hall cupboard", "on the top shelf", "behind the sofa", "in the garage", "under the stairs",
             "in the blue box", "next to the microwave", "in the boot of the car", "on the windowsill",
             "in the storeroom")
_EN_PLACES = ("pharmacy", "post office", "bank", "town hall", "swimming pool", "garden centre",
              "dentist", "museum", "supermarket", "ticket office", "tax office")
_EN_CITIES = ("york", "lyon", "porto", "bremen", "seville", "turin", "bristol", "ghent", "graz", "malaga")
_EN_DOCS = ("invoice", "contract", "timetable", "minutes", "price list", "floor plan", "delivery note", "agenda")
_EN_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "the weekend", "next week", "the fifth")
_EN_CLOCK = ("seven", "half past eight", "ten to nine", "noon", "quarter past two", "six thirty", "eleven")
EN_TEMPLATES = (
    "{name} {act} {when}", "{name} {act} and {act2}", "{when}, {name} {act}", "{name} {act} {when} and {act2}",
    "the {thing} is {where}", "have you seen the {thing}, it was {where}", "put the {thing} back {where}",
    "the {place} opens at {clock}", "what time does the {place} open on {day}", "where is the nearest {place}",
    "the bus to {city} leaves at {clock}", "we arrive in {city} on {day}", "i'll email the {doc} on {day}",
    "could you print the {doc} for the meeting", "the {doc} is attached", "please check the {doc} before {day}",
    "is the {place} open on {day}", "the {place} is next to the {place2}", "we need a new {thing} for the office",
    "{name} will be back on {day}", "{name} works at the {place}", "{name} asked where the {thing} was",
    "the delivery for {city} goes out on {day}", "how do i get to the {place} from here",
)

NEUTRAL_LANG: dict[str, tuple[str, ...]] = {
    "fr": ("le boulanger ouvre à sept heures", "mon frère travaille à la mairie", "le bus passe toutes les vingt minutes",
           "posez les cartons près de l'entrée", "la formation commence mardi prochain", "il a repeint la clôture du jardin",
           "la piscine ferme pour travaux en août", "coupez les carottes en rondelles", "le colis est chez la gardienne",
           "elle a rangé les assiettes dans le placard", "où se trouve la gare routière", "à quelle heure passe le dernier bus",
           "la ferme se trouvait derrière l'église", "le notaire arriva avec les papiers", "il y a du vent depuis ce matin",
           "suivez la route côtière jusqu'au phare", "je fais les courses le samedi", "le musée est fermé le mardi",
           "pouvez-vous m'envoyer la facture", "la clé est sous le paillasson", "le train de nuit part à vingt-deux heures",
           "il lut la lettre puis sortit dans le jardin", "nous avons besoin de deux bouteilles d'eau",
           "le médecin reçoit le matin", "la salle de réunion est à côté de l'accueil", "remplissez le formulaire en majuscules"),
    "de": ("die Bäckerei öffnet um sieben Uhr", "mein Onkel arbeitet bei der Post", "der Bus fährt alle zwanzig Minuten",
           "stellt die Kartons neben den Eingang", "die Schulung beginnt nächsten Dienstag", "er hat den Gartenzaun gestrichen",
           "das Schwimmbad ist im August wegen Bauarbeiten zu", "schneide die Karotten in Scheiben", "das Paket ist beim Hausmeister",
           "sie stellte die Teller in den Schrank", "wo ist der Busbahnhof", "wann fährt der letzte Bus",
           "der Hof lag hinter der Kirche", "der Notar kam mit den Papieren", "seit heute morgen ist es windig",
           "folgen Sie der Küstenstraße bis zum Leuchtturm", "ich kaufe samstags ein", "das Museum ist dienstags geschlossen",
           "können Sie mir die Rechnung schicken", "der Schlüssel liegt unter der Fußmatte", "der Nachtzug fährt um zweiundzwanzig Uhr",
           "er las den Brief und ging dann in den Garten", "wir brauchen zwei Flaschen Wasser",
           "der Arzt hat vormittags Sprechstunde", "der Besprechungsraum ist neben dem Empfang", "füllen Sie das Formular aus"),
    "es": ("la panadería abre a las siete", "mi tío trabaja en correos", "el autobús pasa cada veinte minutos",
           "deja las cajas junto a la entrada", "el curso empieza el martes que viene", "pintó la valla del jardín",
           "la piscina cierra por obras en agosto", "corta las zanahorias en rodajas", "el paquete está en la portería",
           "guardó los platos en el armario", "dónde está la estación de autobuses", "a qué hora pasa el último autobús",
           "la granja estaba detrás de la iglesia", "el notario llegó con los papeles", "hace viento desde esta mañana",
           "siga la carretera de la costa hasta el faro", "hago la compra los sábados", "el museo cierra los martes",
           "me puede enviar la factura", "la llave está debajo del felpudo", "el tren nocturno sale a las diez de la noche",
           "leyó la carta y luego salió al jardín", "necesitamos dos botellas de agua",
           "el médico atiende por la mañana", "la sala de reuniones está junto a la recepción", "rellene el formulario"),
    "it": ("il panificio apre alle sette", "mio zio lavora alla posta", "l'autobus passa ogni venti minuti",
           "metti gli scatoloni vicino all'ingresso", "il corso inizia martedì prossimo", "ha ridipinto la recinzione del giardino",
           "la piscina chiude per lavori ad agosto", "taglia le carote a rondelle", "il pacco è in portineria",
           "ha messo i piatti nell'armadio", "dov'è la stazione degli autobus", "a che ora passa l'ultimo autobus",
           "la fattoria si trovava dietro la chiesa", "il notaio arrivò con i documenti", "c'è vento da stamattina",
           "segua la strada costiera fino al faro", "faccio la spesa il sabato", "il museo è chiuso il martedì",
           "può mandarmi la fattura", "la chiave è sotto lo zerbino", "il treno notturno parte alle ventidue",
           "lesse la lettera e poi uscì in giardino", "ci servono due bottiglie d'acqua",
           "il medico riceve la mattina", "la sala riunioni è accanto alla reception", "compili il modulo in stampatello"),
    "pt": ("a padaria abre às sete", "o meu tio trabalha nos correios", "o autocarro passa de vinte em vinte minutos",
           "põe as caixas perto da entrada", "o curso começa na próxima terça", "pintou a vedação do jardim",
           "a piscina fecha para obras em agosto", "corta as cenouras em rodelas", "a encomenda está na portaria",
           "guardou os pratos no armário", "onde fica a estação rodoviária", "a que horas passa o último autocarro",
           "a quinta ficava atrás da igreja", "o notário chegou com os papéis", "está vento desde manhã",
           "siga a estrada da costa até ao farol", "faço as compras ao sábado", "o museu fecha às terças",
           "pode enviar-me a fatura", "a chave está debaixo do tapete", "o comboio noturno parte às vinte e duas horas",
           "leu a carta e depois foi para o jardim", "precisamos de duas garrafas de água",
           "o médico atende de manhã", "a sala de reuniões fica ao lado da receção", "preencha o formulário"),
}

# per language: (names, actions, times, things, places, templates)
NEUTRAL_LANG_VOCAB: dict[str, tuple] = {
    "fr": (("Marie", "le facteur", "mon voisin", "le fermier", "Paul", "la secrétaire", "le cocher"),
           ("ferma les volets", "compta les pièces", "écrivit deux lettres", "nourrit les chevaux", "traversa la place",
            "lut l'affiche", "alluma le poêle", "mit la table", "paya la note", "ouvrit le portail"),
           ("avant midi", "le soir", "lundi", "après le déjeuner", "le lendemain matin", "à neuf heures"),
           ("l'agrafeuse", "l'échelle", "la valise", "le chargeur", "le dictionnaire", "la lampe de poche"),
           ("la pharmacie", "la poste", "la banque", "la piscine", "la mairie", "le supermarché"),
           ("{name} {act} {when}", "{when}, {name} {act}", "{thing} est dans le placard de l'entrée",
            "à quelle heure ouvre {place}", "{place} est fermée {when}", "où est {thing}")),
    "de": (("Anna", "der Briefträger", "mein Nachbar", "der Bauer", "Paul", "die Sekretärin", "der Kutscher"),
           ("schloss die Fensterläden", "zählte die Münzen", "schrieb zwei Briefe", "fütterte die Pferde",
            "überquerte den Platz", "las den Aushang", "heizte den Ofen an", "deckte den Tisch", "bezahlte die Rechnung",
            "öffnete das Tor"),
           ("vor Mittag", "am Abend", "am Montag", "nach dem Mittagessen", "am nächsten Morgen", "um neun Uhr"),
           ("der Hefter", "die Leiter", "der Koffer", "das Ladegerät", "das Wörterbuch", "die Taschenlampe"),
           ("die Apotheke", "die Post", "die Bank", "das Schwimmbad", "das Rathaus", "der Supermarkt"),
           ("{name} {act} {when}", "{when} {act} {name}", "{thing} ist im Flurschrank",
            "wann öffnet {place}", "{place} ist {when} geschlossen", "wo ist {thing}")),
    "es": (("María", "el cartero", "mi vecino", "el granjero", "Pablo", "la secretaria", "el cochero"),
           ("cerró las contraventanas", "contó las monedas", "escribió dos cartas", "dio de comer a los caballos",
            "cruzó la plaza", "leyó el aviso", "encendió la estufa", "puso la mesa", "pagó la cuenta", "abrió la verja"),
           ("antes del mediodía", "por la tarde", "el lunes", "después de comer", "a la mañana siguiente", "a las nueve"),
           ("la grapadora", "la escalera", "la maleta", "el cargador", "el diccionario", "la linterna"),
           ("la farmacia", "la oficina de correos", "el banco", "la piscina", "el ayuntamiento", "el supermercado"),
           ("{name} {act} {when}", "{when}, {name} {act}", "{thing} está en el armario del pasillo",
            "a qué hora abre {place}", "{place} cierra {when}", "dónde está {thing}")),
    "it": (("Maria", "il postino", "il mio vicino", "il contadino", "Paolo", "la segretaria", "il cocchiere"),
           ("chiuse le persiane", "contò le monete", "scrisse due lettere", "diede da mangiare ai cavalli",
            "attraversò la piazza", "lesse l'avviso", "accese la stufa", "apparecchiò la tavola", "pagò il conto",
            "aprì il cancello"),
           ("prima di mezzogiorno", "la sera", "lunedì", "dopo pranzo", "la mattina dopo", "alle nove"),
           ("la cucitrice", "la scala", "la valigia", "il caricatore", "il dizionario", "la torcia"),
           ("la farmacia", "l'ufficio postale", "la banca", "la piscina", "il municipio", "il supermercato"),
           ("{name} {act} {when}", "{when}, {name} {act}", "{thing} è nell'armadio dell'ingresso",
            "a che ora apre {place}", "{place} chiude {when}", "dov'è {thing}")),
    "pt": (("Maria", "o carteiro", "o meu vizinho", "o agricultor", "Paulo", "a secretária", "o cocheiro"),
           ("fechou as janelas", "contou as moedas", "escreveu duas cartas", "deu de comer aos cavalos",
            "atravessou a praça", "leu o aviso", "acendeu o fogão", "pôs a mesa", "pagou a conta", "abriu o portão"),
           ("antes do meio-dia", "à noite", "na segunda-feira", "depois do almoço", "na manhã seguinte", "às nove"),
           ("o agrafador", "a escada", "a mala", "o carregador", "o dicionário", "a lanterna"),
           ("a farmácia", "os correios", "o banco", "a piscina", "a câmara municipal", "o supermercado"),
           ("{name} {act} {when}", "{when}, {name} {act}", "{thing} está no armário do corredor",
            "a que horas abre {place}", "{place} fecha {when}", "onde está {thing}")),
}


# short noun phrases ("a plastic bucket", "the gate is green"): objects described, no feeling
_NP_OBJECTS = ("bucket", "umbrella", "ladder", "kettle", "suitcase", "wardrobe", "lorry", "tractor", "scooter",
               "teapot", "blanket", "curtain", "doormat", "mailbox", "staircase", "notebook", "backpack", "helmet",
               "bookcase", "fridge", "stool", "crate", "barrel", "canoe", "van", "gate", "jug", "vase", "broom")
_NP_ADJS = ("plastic", "wooden", "metal", "glass", "leather", "striped", "round", "tall", "narrow", "new", "second-hand",
            "green", "yellow", "grey", "white", "orange", "brown", "black", "large", "small")
_NP_TEMPLATES = ("a {a} {o}", "the {o} is {a}", "an old {a} {o}", "two {a} {o}s", "the {a} {o} by the door")


def neutral_sentences(seed: int = 4, n_en: int = 1200, n_lang: int = 120) -> list[tuple[str, str]]:
    """(text, lang) emotion-free sentences: hand-written + ``n_en`` English and ``n_lang`` per other language
    from templates (deterministic for a seed; duplicates removed)."""
    rng = random.Random(seed)
    out = [(t, "en") for t in NEUTRAL_EN]
    for lang, texts in NEUTRAL_LANG.items():
        out += [(t, lang) for t in texts]
    for _ in range(n_en):
        act, act2 = rng.sample(_EN_ACTS, 2)
        place, place2 = rng.sample(_EN_PLACES, 2)
        t = rng.choice(EN_TEMPLATES).format(
            name=rng.choice(_EN_NAMES), act=act, act2=act2, when=rng.choice(_EN_WHEN), thing=rng.choice(_EN_THINGS),
            where=rng.choice(_EN_WHERE), place=place, place2=place2, city=rng.choice(_EN_CITIES),
            doc=rng.choice(_EN_DOCS), day=rng.choice(_EN_DAYS), clock=rng.choice(_EN_CLOCK))
        out.append((t, "en"))
    for _ in range(250):
        t = rng.choice(_NP_TEMPLATES).format(a=rng.choice(_NP_ADJS), o=rng.choice(_NP_OBJECTS))
        out.append((t.replace("a old", "an old"), "en"))
    for lang, (names, acts, whens, things, places, temps) in NEUTRAL_LANG_VOCAB.items():
        for _ in range(n_lang):
            t = rng.choice(temps).format(name=rng.choice(names), act=rng.choice(acts), when=rng.choice(whens),
                                         thing=rng.choice(things), place=rng.choice(places))
            out.append((t, lang))
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------- emotional
EMOTIONAL_EN: dict[str, tuple[str, ...]] = {
    "happy": (
        "we got the flat, we actually got it", "the roof is fixed at last, this is wonderful",
        "the results are fine, everything is fine, hooray", "look at this, my first real paycheck",
        "i love it, it's exactly what i wanted", "she said yes, she really said yes",
        "we're going to the seaside tomorrow, yay", "that was the funniest thing i've ever heard",
        "oh, you kept my old drawings, how lovely", "i'm grinning like an idiot and i don't care",
        "everything worked out perfectly today", "my little brother took his first steps, it was adorable",
        "ha, we did it, we really did it", "what a perfect evening with all of you",
        "i finally finished the novel and the publisher loves it",
        "this cake is amazing, you're the best", "we're going to be parents",
        "i can't wait for the holidays, it's going to be great", "i love this song, turn it up",
        "the garden looks beautiful this year, i'm delighted", "i got the part in the play",
    ),
    "sad": (
        "she moved away and i haven't heard from her since", "i keep setting two plates out of habit",
        "the shop my father built closed for good today", "nobody answered when i called",
        "i waited at the station but he never got off the train", "the school where i met her is being torn down",
        "i'm sorry, i just can't stop crying", "grandma doesn't recognise me anymore",
        "it's been a year and it still hurts", "i wish i had said goodbye properly",
        "everyone else got invited except me", "the kitten didn't make it through the night",
        "i failed again, no matter how hard i try", "his coat is still hanging by the door",
        "we had to give the puppy back", "i feel so alone in this big city",
        "the letters stopped coming after the winter", "i'll never see that place again",
        "my best friend doesn't want to talk to me anymore", "the rain matches how i feel today",
        "i gave it everything and it still wasn't enough", "she left without even a note",
    ),
    "angry": (
        "who the hell parked in front of my garage again", "don't you dare touch my things",
        "you promised, and you broke it, like always", "that's the third time you've skipped your shift and left me to cover",
        "i've had enough of this, do you hear me", "shut up and listen to me for once",
        "you took the money without asking", 
        "give me back my phone right now", "this is outrageous, i want to see the manager",
        "you ruined everything, everything", "stop slamming the doors in my house",
        "i paid for this and it's broken, unacceptable", "who told you that you could use my car",
        "enough, i'm not putting up with this any longer", "you humiliated me in front of everybody",
        "keep your hands off my sister", "you cheated, and everyone saw it",
        "don't walk away while i'm talking to you", "i'm furious, you should have told me",
        "that was my seat and you know it", "you threw my plans in the bin, how could you",
    ),
    "fearful": (
        "did you hear that, there's someone downstairs", "please, stay with me until the storm passes",
        "the car won't start and something is out there", "hide, quick, they're coming this way",
        "i can't breathe, the water is rising", "stay back, i'm warning you, please stay back",
        "what if the plane goes down", "there's smoke coming under the door, help",
        "the dog is loose and it's running straight at us", "i'm so scared, i can't stop shaking",
        "don't let go of my hand, please", "who's there, answer me, who's there",
        "the volcano is rumbling again, we should leave", "they said the storm will hit tonight and we're trapped",
        "somebody is trying the door handle", "i'm afraid of the dogs on that farm",
        "i think the brakes are gone", "what was that noise in the attic",
        "the power is off and i can hear breathing in the dark", "please let them be safe, please",
        "i'm lost and my phone is dead and it's getting dark", "run, the wall is going to collapse",
        "don't hurt the children, please", "i heard a scream from the cellar", "there's a man with a gun outside",
        "the boat is sinking and i can't swim", "something just grabbed my ankle in the water",
    ),
    "surprised": (
        "what, you bought a boat", "you're kidding, she's your twin sister", "no way, you grew a beard",
        "you speak japanese now", "wow, i never expected that", "hold on, you knew all along",
        "really, the whole street is going to be repainted", "oh my goodness, where did all these flowers come from",
        "what are you doing here, you're supposed to be in canada", "seriously, it was you the whole time",
        "wait, the shop is closing tomorrow", "huh, the door was open all along", "you sold the house, just like that",
        "goodness, how did you get in here", "what on earth, the river has frozen over",
        "you won, against all those people", "whoa, i didn't see that coming at all",
        "is that a real elephant in the square", "they're twins, i had no idea", "oh, it's snowing in june",
        "the river changed colour overnight", "wait, what did you just say",
        "hang on, is this your car", "you mean the bakery is yours", "what, you already painted the whole fence",
        "oh, i didn't know you had a brother", "how did you get here so fast", "no, really, the lake has dried up",
        "wow, look at the size of that fish", "what's this, a parcel for me", "you're back already, i thought you left for a month",
        "good heavens, the tree is full of parrots",
    ),
    "disgusted": (
        "ugh, something died in the fridge", "eww, don't put your feet on the table",
        "yuck, this coffee tastes like dishwater", "that's disgusting, the sink is full of grease",
        "the whole kitchen reeks of sour fish", "gross, he picked his nose and ate it",
        "ew, the sandwich is green on one side", "this shower hasn't been cleaned in weeks, it stinks",
        "stop chewing with your mouth open, it's nauseating", "blech, there's a slug in the lettuce",
        "the carpet is sticky and it stinks of beer", "ugh, the cheese is crawling",
        "don't touch that, it's covered in mould", "that's revolting, he spat on the floor",
        "yuck, the water from the tap is brown and smells", "the dumpster behind the restaurant is foul",
        "ugh, someone left dirty socks on my pillow", "the meat has gone off, throw it out",
        "eww, there are ants in the sugar jar", "this smells like a sewer, i'm going to gag",
    ),
    "contemptuous": (
        "oh, how adorable, you think you're an expert", "is that really the best you can do",
        "he'll never amount to anything", "and this is supposed to be dinner",
        "don't make me laugh, you and a promotion",
        "how sweet, another one of your brilliant ideas",
        "i wouldn't expect a beginner to understand", "cute plan, shame it will never work",
        "oh sure, because you're such a genius", "that's rich, coming from you",
        "they really let anyone in here these days", "your little hobby project, how charming",
        "i'm not going to waste my time arguing with you", "you, a leader, don't be ridiculous",
        "what a pathetic excuse for a report", "go on then, impress me, if you can",
        "typical, the amateurs think they know everything",
        "oh, look who finally decided to show up", "nice try, but some of us actually read the rules",
        "he thinks a tie makes him a manager", "oh yes, very impressive, for a first-year student",
        "she wouldn't last a day in a real kitchen", "i've met smarter parrots", "that's your big secret, how dull",
        "of course he got lost again, what else is new", 
    ),
}

# interjection × event: (openers, events) per emotion; a line is "opener, event" or "event, opener"
EMOTIONAL_COMBOS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "happy": (("yes", "hooray", "oh, wonderful", "how lovely", "fantastic", "i'm so happy", "this is brilliant",
               "what great news", "yippee", "best news ever"),
              ("we got the house", "the baby is healthy", "the new bike fits perfectly", "the bank approved the loan",
               "the kittens were born last night", "we're going on holiday", "i got the scholarship", "the band is playing our song",
               "the puppy is ours", "the sun is out for the picnic", "grandpa is well again", "we finished on time")),
    "sad": (("oh no", "i'm heartbroken", "it's all over", "i can't bear it", "it hurts so much", "i feel so empty",
             "why did it have to happen", "it still hurts"),
            ("she's gone", "the farm has been sold", "he moved to the other side of the world",
             "our cat never came home", "the old tree fell in the storm", "they cancelled my operation again",
             "my friend forgot about me", "the orchestra let me go", "nobody came to the funeral",
             "the old piano was sold")),
    "angry": (("how dare you", "enough", "this is unbelievable", "i'm fed up", "stop it right now",
               "damn it", "are you out of your mind", "i've had it with you"),
              ("you broke my phone", "you locked me out of the house", "you gave away my coat", "you sold my bike",
               "you left the gate open and the sheep got out", "you blamed me for your mistake",
               "you took credit for my work", "you kept me waiting for two hours", "you shouted at my mother",
               "you ate my lunch again")),
    "fearful": (("help", "please", "oh god", "i'm scared", "somebody help us", "don't move",
                 "i'm frightened", "run"),
                ("there's someone in the house", "the car is sliding off the road", "the boat is taking on water",
                 "a snake is under the bed", "the fire is spreading", "the gas is leaking",
                 "something is scratching at the window", "they've got a knife", "the lift has stopped between floors",
                 "the wolves are getting closer")),
    "surprised": (("what", "no way", "really", "wow", "wait", "seriously", "oh my", "you're joking", "what a shock"),
                  ("you're moving to australia", "she's your mother", "the cat can open doors",
                   "the bakery has become a hotel", "the bus driver is your uncle", "the bus is free today",
                   "he's ninety years old", "the snow is a metre deep", "you've met the president",
                   "the letter is forty years old")),
    "disgusted": (("ugh", "yuck", "eww", "gross", "that's disgusting", "how revolting", "blech", "nasty"),
                  ("the rubbish bag is leaking", "there's mould in the coffee cup", "the fish has gone bad",
                   "he sneezed into his hand and then shook mine", "the drain is blocked with hair",
                   "the dog rolled in something dead", "the fridge is full of furry old leftovers",
                   "there are flies all over the meat", "someone threw up in the bus", "the pond is full of sludge")),
    "contemptuous": (("oh please", "how cute", "pathetic", "don't make me laugh", "how original", "typical",
                      "whatever"),
                     ("you think that's hard work", "he calls himself an artist", "they think they're so important",
                      "you want to run the company now", "she thinks she can sing", "your big important meeting",
                      "your so-called business plan", "he thinks money buys class", "another of your grand ideas",
                      "he thinks a big car makes him clever")),
}

EMOTIONAL_LANG: dict[str, dict[str, tuple[str, ...]]] = {
    "fr": {"happy": ("on a eu la maison, c'est génial", "on part en vacances demain, quelle joie", "les cerises sont mûres, youpi"),
           "sad": ("mon meilleur ami a déménagé très loin", "personne ne m'a appelé", "je n'arrête pas de pleurer"),
           "angry": ("comment oses-tu me parler sur ce ton", "ça suffit, rends-moi mon vélo", "tu as cassé ma guitare"),
           "fearful": ("il y a quelqu'un dans la cave, j'ai peur", "au secours, la voiture glisse", "j'entends des pas dans le grenier"),
           "surprised": ("quoi, tu as vendu la maison", "non, ce n'est pas possible, c'est toi", "ça alors, il neige en juin"),
           "disgusted": ("beurk, il y a de la moisissure partout", "c'est dégoûtant, il a craché par terre", "berk, ne touche pas ça"),
           "contemptuous": ("c'est ça, ton grand projet", "quelle idée ridicule, comme d'habitude",
                            "regardez-le, il se croit important")},
    "de": {"happy": ("wir haben die Wohnung bekommen, großartig", "morgen fahren wir in den Urlaub, wie schön", "juhu, die Kirschen sind reif"),
           "sad": ("mein bester Freund ist weit weggezogen", "niemand hat angerufen", "ich muss die ganze Zeit weinen"),
           "angry": ("wie kannst du es wagen, so mit mir zu reden", "jetzt reicht es, gib mir mein Fahrrad zurück", "du hast meine Gitarre kaputt gemacht"),
           "fearful": ("da ist jemand im Keller, ich habe Angst", "hilfe, das Auto rutscht", "ich höre Schritte auf dem Dachboden"),
           "surprised": ("was, du hast das Haus verkauft", "nein, das gibt es doch nicht, du bist es", "schau mal, es schneit im Juni"),
           "disgusted": ("igitt, überall ist Schimmel", "das ist ekelhaft, er hat auf den Boden gespuckt", "bäh, fass das nicht an"),
           "contemptuous": ("das ist also dein großes Projekt", "was für eine lächerliche Idee, wie immer",
                            "schau ihn dir an, er hält sich für wichtig")},
    "es": {"happy": ("nos dieron el piso, qué maravilla", "mañana nos vamos de vacaciones, qué alegría", "bien, las cerezas ya están maduras"),
           "sad": ("mi mejor amigo se mudó muy lejos", "nadie me llamó", "no puedo dejar de llorar"),
           "angry": ("cómo te atreves a hablarme así", "ya basta, devuélveme la bici", "me has roto la guitarra"),
           "fearful": ("hay alguien en el sótano, tengo miedo", "socorro, el coche se desliza", "oigo pasos en el desván"),
           "surprised": ("qué, vendiste la casa", "no puede ser, eres tú", "anda, está nevando en junio"),
           "disgusted": ("puaj, hay moho por todas partes", "qué asco, ha escupido en el suelo", "agh, no toques eso"),
           "contemptuous": ("así que este es tu gran proyecto", "qué idea tan ridícula, como siempre",
                            "míralo, se cree importante")},
    "it": {"happy": ("ci hanno dato la casa, che meraviglia", "domani partiamo per le vacanze, che gioia", "evviva, le ciliegie sono mature"),
           "sad": ("il mio migliore amico si è trasferito lontano", "nessuno mi ha chiamato", "non riesco a smettere di piangere"),
           "angry": ("come ti permetti di parlarmi così", "adesso basta, ridammi la bici", "mi hai rotto la chitarra"),
           "fearful": ("c'è qualcuno in cantina, ho paura", "aiuto, la macchina sta scivolando", "sento dei passi in soffitta"),
           "surprised": ("cosa, hai venduto la casa", "non ci posso credere, sei tu", "guarda, nevica a giugno"),
           "disgusted": ("bleah, c'è muffa dappertutto", "che schifezza, ha sputato per terra", "puah, non toccarlo"),
           "contemptuous": ("e questo sarebbe il tuo grande progetto", "che idea ridicola, come sempre",
                            "guardalo, si crede importante")},
    "pt": {"happy": ("ficámos com a casa, que maravilha", "amanhã vamos de férias, que alegria", "viva, as cerejas estão maduras"),
           "sad": ("o meu melhor amigo mudou-se para muito longe", "ninguém me ligou", "não consigo parar de chorar"),
           "angry": ("como te atreves a falar assim comigo", "já chega, devolve-me a bicicleta", "partiste-me a guitarra"),
           "fearful": ("está alguém na cave, tenho medo", "socorro, o carro está a derrapar", "ouço passos no sótão"),
           "surprised": ("o quê, vendeste a casa", "não pode ser, és tu", "olha, está a nevar em junho"),
           "disgusted": ("eca, há bolor por todo o lado", "que nojo, cuspiu no chão", "credo, não toques nisso"),
           "contemptuous": ("então este é o teu grande projeto", "que ideia ridícula, como sempre",
                            "olha para ele, acha-se importante")},
}


def emotional_lines(seed: int = 4, n_combo: int = 24) -> list[tuple[str, str, str]]:
    """(text, lang, basic emotion): hand-written lines plus ``n_combo`` opener × event lines per emotion."""
    rng = random.Random(seed + 1)
    out = [(t, "en", label) for label, texts in EMOTIONAL_EN.items() for t in texts]
    for lang, table in EMOTIONAL_LANG.items():
        out += [(t, lang, label) for label, texts in table.items() for t in texts]
    for label, (openers, events) in EMOTIONAL_COMBOS.items():
        pairs = [(o, e) for o in openers for e in events]
        for o, e in rng.sample(pairs, min(n_combo, len(pairs))):
            out.append((f"{o}, {e}" if rng.random() < 0.7 else f"{e}, {o}", "en", label))
    seen, uniq = set(), []
    for t, lang, label in out:
        if t.lower() not in seen:
            seen.add(t.lower())
            uniq.append((t, lang, label))
    return uniq
