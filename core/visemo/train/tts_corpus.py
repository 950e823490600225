"""Training corpus for the speech → articulation-class model: synthetic speech with exact phone timings.

Three synthesizers, each of which knows when every phone starts:

* **espeak-ng** through ctypes on ``libespeak-ng.so.1`` (phoneme events with
  the IPA name and the sample position; 70 training languages × 45 voice variants);
* **festival** (``festival -b script.scm``; ``utt.save.segs`` gives segment end
  times): Italian, Finnish, English, Hindi, Marathi, Telugu voices for
  training, and the Czech, Catalan and Russian voices, which are reserved for
  evaluation (:data:`RESERVED_FESTIVAL_VOICES`);
* **flite** (``-psdur``: ``phone:end`` pairs, English).

Every utterance becomes ``<split>/<id>.wav`` (16 kHz mono int16) and
``<split>/<id>.json``::

    {"id", "engine", "voice", "language", "split", "text", "sample_rate", "duration",
     "phones": [[symbol, start_s, end_s], ...],      # the engine's own phone names, "SIL" for pauses
     "classes": [[class, start_s, end_s], ...],      # visemo.speech.articulation_classes.CLASSES,
     "phone_set", "params"}                          # contiguous over [0, duration], SIL at the edges

plus ``manifest.jsonl`` (all utterances, in plan order) and one
``manifest_<split>.jsonl`` per split.

Held-out policy (see :func:`split_for`; :func:`check_split` raises
:class:`HeldOutViolation` if anything reserved or held out would land in
``train``, and runs on every utterance before it is written):

* ``heldout_reserved``: festival's Czech, Catalan and Russian voices;
* ``heldout_language``: whole languages no engine may train on
  (:data:`HELDOUT_LANGUAGES`, which includes the reserved voices' languages);
* ``heldout_voice``: voices of training languages kept out of training
  (:data:`HELDOUT_ESPEAK_VARIANTS`, :data:`HELDOUT_VOICES`).

Texts: the emotion-free sentences and emotional lines of
``data/emotion_lexicon/sentences.jsonl`` (en, fr, de, es, it, pt); for other
Latin-script languages those sentences spoken by that language's voice (its
own letter-to-sound rules) and pseudo-text (random syllables from the
language's own letters, :data:`ORTHOGRAPHY`); for other scripts pseudo-text
only; for the held-out languages and Finnish, sentences written for this
corpus (:data:`WRITTEN`; festival's Finnish voices read those and pseudo-text).  Sentences of ``tests/`` and ``benchmarks/``
(evaluation texts) are refused (:func:`evaluation_texts`).

espeak timing: the phoneme event of a voiceless stop comes at its *burst*;
the closure before it is digital silence that espeak counts in the previous
phone.  :func:`espeak_phones` moves that silence into the stop (lips or tongue
already closed), which is what a face shows.  :func:`measure_espeak_timing`
measures it.  espeak's pause event between two vowels of neighbouring words,
where the voice carries on, is given to the neighbours.  festival and flite
segments already start at the closure.  espeak keeps hidden state between
utterances, so each one is synthesized in a forked child (:meth:`Espeak.synth`).

Run ``python -m visemo.train.tts_corpus OUT_DIR --hours 4 --seed 0``.
Deterministic for a seed; resumable (utterances already written are
skipped).  Licence of the written sentences: CC0-1.0.
"""

from __future__ import annotations

import argparse
import ast
import ctypes
import ctypes.util
import hashlib
import json
import math
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from visemo.speech.articulation_classes import CLASSES, arpabet_class, ipa_class
from visemo.speech.phonemes import normalize_phone

SAMPLE_RATE = 16000
"""Every wave of the corpus: 16 kHz mono int16."""

SPLITS: tuple[str, ...] = ("train", "heldout_voice", "heldout_language", "heldout_reserved")
SIL = "SIL"

# ============================================================================ held-out policy
RESERVED_FESTIVAL_VOICES: frozenset[str] = frozenset({
    "czech_dita", "czech_krb", "czech_machac", "czech_ph", "upc_ca_ona_hts", "msu_ru_nsh_clunits"})
"""festival's Czech, Catalan and Russian voices: evaluation only, never training (split ``heldout_reserved``)."""

RESERVED_LANGUAGES: frozenset[str] = frozenset({"cs", "ca", "ru"})
"""The reserved voices' languages: no engine trains on them either, so they stay unseen languages."""

HELDOUT_LANGUAGES: tuple[str, ...] = ("ca", "cs", "el", "hu", "ko", "ru", "sw", "tr", "vi")
"""Languages no engine trains on (split ``heldout_language``, espeak): the reserved languages plus
Greek (own script), Hungarian (Uralic), Korean (Hangul, isolating phonotactics), Swahili (Bantu),
Turkish (Turkic, vowel harmony) and Vietnamese (tonal).  Their espeak dialects (``ru-lv``,
``vi-vn-x-*``) and Ancient Greek (``grc``) are held out with them."""

HELDOUT_ESPEAK_VARIANTS: tuple[str, ...] = ("m6", "f4", "klatt4", "Annie")
"""espeak-ng voice variants kept out of training (split ``heldout_voice``, in training languages)."""

HELDOUT_VOICES: frozenset[tuple[str, str]] = frozenset({("flite", "awb"), ("festival", "ked_diphone")})
"""Whole (engine, voice) pairs of training languages kept out of training: flite's Scottish male,
festival's second US male diphone voice."""

TRAIN_ESPEAK_VARIANTS: tuple[str, ...] = (
    "", "m1", "m2", "m3", "m4", "m5", "m7", "m8", "f1", "f2", "f3", "f5", "klatt", "klatt2", "klatt3",
    "klatt5", "klatt6", "adam", "anika", "belinda", "linda", "steph", "aunty", "grandma", "grandpa",
    "john", "max", "paul", "robert", "iven", "gustave", "Michael", "Gene", "ed", "quincy", "rob",
    "travis", "norbert", "pablo", "pedro", "antonio", "sandro", "david", "edward", "benjamin")
"""espeak-ng variants used for training ("" = the language's own voice).  Whisper, croak, robot and
effect variants are left out (no voicing, or not speech-like)."""


class HeldOutViolation(ValueError):
    """A reserved or held-out voice or language was about to enter the training split."""


def _base_language(language: str) -> str:
    return language.split("-")[0].lower()


def _variant(voice: str) -> str:
    return voice.split("+", 1)[1] if "+" in voice else ""


def split_for(engine: str, voice: str, language: str) -> str:
    """The split an (engine, voice, language) belongs to, by the held-out policy.

    ``voice`` is the engine's voice name (espeak: ``"pl+m3"``; festival: ``"lp_diphone"``;
    flite: ``"slt"``); ``language`` an ISO code (``"pl"``, ``"en"``).
    """
    base = _base_language(language)
    if engine == "festival" and voice in RESERVED_FESTIVAL_VOICES:
        return "heldout_reserved"
    if base in HELDOUT_LANGUAGES or base in RESERVED_LANGUAGES or base == "grc":
        return "heldout_language"
    if (engine, voice.split("+")[0]) in HELDOUT_VOICES:
        return "heldout_voice"
    if engine == "espeak" and _variant(voice) in HELDOUT_ESPEAK_VARIANTS:
        return "heldout_voice"
    return "train"


def check_split(engine: str, voice: str, language: str, split: str) -> None:
    """Raise :class:`HeldOutViolation` unless ``split`` is what the policy says; never let a reserved voice,
    a held-out language or a held-out voice into ``train`` (checked by name, whatever the caller claims)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    if split == "train":
        base = _base_language(language)
        if voice.split("+")[0] in RESERVED_FESTIVAL_VOICES:
            raise HeldOutViolation(f"festival voice {voice!r} is reserved for evaluation; it can never be training data")
        if base in RESERVED_LANGUAGES or base in HELDOUT_LANGUAGES or base == "grc":
            raise HeldOutViolation(f"language {language!r} is held out; it can never be training data")
        if _variant(voice) in HELDOUT_ESPEAK_VARIANTS and engine == "espeak":
            raise HeldOutViolation(f"espeak variant {_variant(voice)!r} is held out")
        if (engine, voice.split("+")[0]) in HELDOUT_VOICES:
            raise HeldOutViolation(f"{engine} voice {voice!r} is held out")
    expected = split_for(engine, voice, language)
    if split != expected:
        raise HeldOutViolation(f"{engine} {voice} ({language}) belongs to split {expected!r}, not {split!r}")


# ============================================================================ texts
WRITTEN: dict[str, tuple[str, ...]] = {
    # Held-out languages: everyday sentences written for this corpus (evaluation text).
    "ru": ("Утром я покупаю хлеб в маленькой пекарне.", "Автобус приходит на остановку каждые десять минут.",
           "Положи ключи на полку возле двери.", "Мой брат работает на почте уже пять лет.",
           "В субботу мы поедем к бабушке на дачу.", "Библиотека открыта с девяти утра до шести вечера.",
           "Сначала налей воду, потом включи чайник.", "На столе лежат две книги и синяя папка.",
           "Поезд опаздывает на полчаса из-за снега.", "Мама попросила купить молоко и масло.",
           "Папа починил велосипед во дворе.", "Окно на кухне нужно помыть до пятницы.",
           "Врач принимает пациентов по вторникам.", "Возьми зонтик, обещали дождь.",
           "Магазин на углу закрывается в восемь.", "Мы посадили помидоры и перец в огороде.",
           "Письмо пришло в понедельник утром.", "Передай, пожалуйста, соль и перец.",
           "Этот мост построили больше ста лет назад.", "Собака спит под скамейкой в парке."),
    "cs": ("Pekárna na rohu otvírá v sedm hodin.", "Autobus jezdí každých dvacet minut.",
           "Polož klíče na poličku u dveří.", "Můj bratr pracuje na poště.",
           "V sobotu pojedeme k babičce na chalupu.", "Knihovna je otevřená od devíti do šesti.",
           "Nejdřív nalij vodu a potom zapni konvici.", "Na stole leží dvě knihy a modrá složka.",
           "Vlak má kvůli sněhu půl hodiny zpoždění.", "Maminka mě poprosila, abych koupil mléko a máslo.",
           "Tatínek opravil kolo na dvoře.", "Okno v kuchyni musíme umýt do pátku.",
           "Lékař ordinuje v úterý a ve čtvrtek.", "Vezmi si deštník, má pršet.",
           "Obchod na rohu zavírá v osm.", "Na zahradě jsme zasadili rajčata a papriky.",
           "Dopis přišel v pondělí ráno.", "Podej mi prosím sůl a pepř.",
           "Tento most postavili před více než sto lety.", "Pes spí pod lavičkou v parku."),
    "ca": ("El forn de la cantonada obre a les set.", "L'autobús passa cada vint minuts.",
           "Deixa les claus al prestatge de l'entrada.", "El meu germà treballa a correus.",
           "Dissabte anirem a veure l'àvia al poble.", "La biblioteca obre de nou a sis.",
           "Primer posa l'aigua i després encén el foc.", "Sobre la taula hi ha dos llibres i una carpeta blava.",
           "El tren arriba mitja hora tard per la neu.", "La mare em va demanar que comprés llet i mantega.",
           "El pare va arreglar la bicicleta al pati.", "Hem de netejar la finestra de la cuina abans de divendres.",
           "El metge visita els dimarts i els dijous.", "Agafa el paraigua, que diuen que plourà.",
           "La botiga del carrer tanca a les vuit.", "Hem plantat tomàquets i pebrots a l'hort.",
           "La carta va arribar dilluns al matí.", "Em passes la sal i el pebre, si us plau?",
           "Aquest pont el van construir fa més de cent anys.", "El gos dorm sota el banc del parc."),
    "el": ("Ο φούρνος στη γωνία ανοίγει στις επτά.", "Το λεωφορείο περνάει κάθε είκοσι λεπτά.",
           "Άφησε τα κλειδιά στο ράφι δίπλα στην πόρτα.", "Ο αδελφός μου δουλεύει στο ταχυδρομείο.",
           "Το Σάββατο θα πάμε στη γιαγιά στο χωριό.", "Η βιβλιοθήκη είναι ανοιχτή από τις εννέα ως τις έξι.",
           "Πρώτα βάλε νερό και μετά άναψε το μάτι.", "Στο τραπέζι υπάρχουν δύο βιβλία και ένας μπλε φάκελος.",
           "Το τρένο έχει μισή ώρα καθυστέρηση λόγω του χιονιού.", "Η μαμά μου ζήτησε να πάρω γάλα και βούτυρο.",
           "Ο μπαμπάς επισκεύασε το ποδήλατο στην αυλή.", "Ο γιατρός δέχεται κάθε Τρίτη και Πέμπτη.",
           "Πάρε ομπρέλα, λένε ότι θα βρέξει.", "Το μαγαζί στη γωνία κλείνει στις οκτώ.",
           "Ο σκύλος κοιμάται κάτω από το παγκάκι στο πάρκο."),
    "hu": ("A sarki pékség hétkor nyit.", "A busz húsz percenként jár.",
           "Tedd a kulcsokat az ajtó melletti polcra.", "A bátyám a postán dolgozik.",
           "Szombaton meglátogatjuk a nagymamát a faluban.", "A könyvtár kilenctől hatig van nyitva.",
           "Először tölts vizet, aztán kapcsold be a vízforralót.", "Az asztalon két könyv és egy kék mappa van.",
           "A vonat a hó miatt fél órát késik.", "Anya megkért, hogy vegyek tejet és vajat.",
           "Apa megjavította a biciklit az udvaron.", "Az orvos kedden és csütörtökön rendel.",
           "Vigyél esernyőt, esőt mondanak.", "A sarki bolt nyolckor zár.",
           "A kutya a pad alatt alszik a parkban."),
    "tr": ("Köşedeki fırın sabah yedide açılıyor.", "Otobüs her yirmi dakikada bir geçiyor.",
           "Anahtarları kapının yanındaki rafa bırak.", "Ağabeyim postanede çalışıyor.",
           "Cumartesi günü köyde babaannemi ziyaret edeceğiz.", "Kütüphane dokuzdan altıya kadar açık.",
           "Önce suyu koy, sonra ocağı yak.", "Masada iki kitap ve mavi bir dosya var.",
           "Tren kar yüzünden yarım saat gecikiyor.", "Annem süt ve tereyağı almamı istedi.",
           "Babam bisikleti bahçede tamir etti.", "Doktor salı ve perşembe günleri hasta bakıyor.",
           "Şemsiyeni al, yağmur yağacakmış.", "Köşedeki dükkan sekizde kapanıyor.",
           "Köpek parktaki bankın altında uyuyor."),
    "vi": ("Tiệm bánh ở góc đường mở cửa lúc bảy giờ.", "Xe buýt chạy hai mươi phút một chuyến.",
           "Để chìa khóa trên kệ cạnh cửa ra vào.", "Anh trai tôi làm việc ở bưu điện.",
           "Thứ bảy chúng tôi sẽ về quê thăm bà.", "Thư viện mở cửa từ chín giờ đến sáu giờ.",
           "Trước tiên đổ nước, sau đó bật bếp.", "Trên bàn có hai quyển sách và một tập hồ sơ màu xanh.",
           "Tàu bị trễ nửa tiếng vì tuyết.", "Mẹ nhờ tôi mua sữa và bơ.", "Bố đã sửa xe đạp ngoài sân.",
           "Bác sĩ khám bệnh vào thứ ba và thứ năm.", "Mang ô theo đi, nghe nói trời sẽ mưa.",
           "Cửa hàng ở góc phố đóng cửa lúc tám giờ.", "Con chó ngủ dưới ghế đá trong công viên."),
    "sw": ("Duka la mikate linafunguliwa saa moja asubuhi.", "Basi linapita kila dakika ishirini.",
           "Weka funguo kwenye rafu karibu na mlango.", "Kaka yangu anafanya kazi posta.",
           "Jumamosi tutamtembelea bibi kijijini.", "Maktaba inafunguliwa kuanzia saa tatu hadi saa kumi na mbili.",
           "Kwanza weka maji, halafu washa jiko.", "Mezani kuna vitabu viwili na faili la bluu.",
           "Treni imechelewa nusu saa kwa sababu ya mvua.", "Mama aliniomba ninunue maziwa na siagi.",
           "Baba alitengeneza baiskeli uani.", "Daktari anaona wagonjwa Jumanne na Alhamisi.",
           "Chukua mwavuli, wanasema mvua itanyesha.", "Duka la pembeni linafungwa saa mbili usiku.",
           "Mbwa analala chini ya benchi katika bustani."),
    "ko": ("모퉁이 빵집은 아침 일곱 시에 문을 엽니다.", "버스는 이십 분마다 옵니다.", "열쇠를 문 옆 선반에 두세요.",
           "우리 형은 우체국에서 일합니다.", "토요일에 시골에 계신 할머니를 뵈러 갑니다.",
           "도서관은 아홉 시부터 여섯 시까지 엽니다.", "먼저 물을 붓고 불을 켜세요.",
           "책상 위에 책 두 권과 파란 서류철이 있습니다.", "눈 때문에 기차가 삼십 분 늦습니다.",
           "엄마가 우유와 버터를 사 오라고 하셨어요.", "아빠가 마당에서 자전거를 고치셨어요.",
           "의사 선생님은 화요일과 목요일에 진료합니다.", "우산을 가져가세요, 비가 온대요.",
           "모퉁이 가게는 여덟 시에 문을 닫습니다.", "강아지가 공원 벤치 밑에서 자고 있어요."),
    # Training: festival's Finnish voices have no Finnish sentences elsewhere in the repository.
    "fi": ("Leipomo kadun kulmassa aukeaa kello seitsemän.", "Bussi kulkee kahdenkymmenen minuutin välein.",
           "Laita avaimet hyllylle oven viereen.", "Veljeni on töissä postissa.",
           "Lauantaina menemme mummolaan maalle.", "Kirjasto on auki yhdeksästä kuuteen.",
           "Kaada ensin vesi ja laita sitten kattila liedelle.", "Pöydällä on kaksi kirjaa ja sininen kansio.",
           "Juna on puoli tuntia myöhässä lumen takia.", "Äiti pyysi minua ostamaan maitoa ja voita.",
           "Isä korjasi polkupyörän pihalla.", "Keittiön ikkuna pitää pestä ennen perjantaita.",
           "Lääkäri ottaa vastaan tiistaisin ja torstaisin.", "Ota sateenvarjo mukaan, huomenna sataa.",
           "Kulman kauppa sulkeutuu kahdeksalta.", "Istutimme tomaatteja ja paprikoita puutarhaan.",
           "Kirje tuli maanantaiaamuna.", "Ojentaisitko suolan ja pippurin.",
           "Tämä silta rakennettiin yli sata vuotta sitten.", "Koira nukkuu puiston penkin alla.",
           "Mökillä on sauna ja pieni laituri.", "Päivällä kävimme torilla ostamassa perunoita.",
           "Bussipysäkki on koulun edessä.", "Hän luki lehden ja joi kupin kahvia.",
           "Järven rannalla kasvaa koivuja ja mäntyjä."),
}
"""Sentences written for this corpus: the held-out languages' evaluation text, and Finnish for festival."""

ORTHOGRAPHY: dict[str, tuple[str, str, str]] = {
    # language: (vowel spellings, consonant spellings, onset clusters), space-separated, in the
    # language's own script.  Pseudo-text: words of 1-3 syllables (C)V(C), read by the language's voice.
    "af": ("a e i o u ê ë ie oe", "b d f g h j k l m n p r s t v w", "sk st tr kr gr dr"),
    "an": ("a e i o u", "b ch d f g l ll m n ny p r rr s t x z", "tr pl br"),
    "az": ("a e ə i ı o ö u ü", "b c ç d f g ğ h x j k q l m n p r s ş t v y z", "st"),
    "bs": ("a e i o u", "b c č ć d dž đ f g h j k l lj m n nj p r s š t v z ž", "st sk tr br pr"),
    "cy": ("a e i o u w y ae ai au wy", "b c ch d dd f ff g ng h l ll m n p ph r rh s t th", "cr gl tr"),
    "da": ("a e i o u y æ ø å", "b d f g h j k l m n p r s t v", "sk st tr kr"),
    "eo": ("a e i o u", "b c ĉ d f g ĝ h j ĵ k l m n p r s ŝ t v z", "tr pl kr"),
    "et": ("a e i o u õ ä ö ü aa ee ii oo uu", "d g h j k l m n p r s t v", ""),
    "eu": ("a e i o u", "b d f g h j k l m n p r rr s t tx tz ts x z", ""),
    "fi": ("a e i o u y ä ö aa ee ii uu yy ää", "d h j k l m n p r s t v kk pp tt ll", ""),
    "ga": ("a e i o u á é í ó ú ai ea ui", "b bh c ch d dh f g gh l m mh n p r s t th", "br cl"),
    "gd": ("a e i o u à è ì ò ù ai ea", "b bh c ch d dh f g gh l m mh n p r s t th", "br cl"),
    "hr": ("a e i o u", "b c č ć d dž đ f g h j k l lj m n nj p r s š t v z ž", "st sk tr br pr"),
    "ht": ("a e i o ou è ò an en on", "b ch d f g h j k l m n p r s t v y z", "tr pl"),
    "ia": ("a e i o u", "b c d f g h j l m n p r s t v z", "tr pr"),
    "id": ("a e i o u", "b c d f g h j k l m n ng ny p r s t w y", "tr"),
    "is": ("a e i o u y á é í ó ú ý æ ö", "b d ð f g h j k l m n p r s t v þ", "st sk"),
    "la": ("a e i o u ae", "b c d f g h l m n p qu r s t v x", "tr pr st"),
    "lb": ("a e i o u ä ë é ou ei", "b d f g h j k l m n p r s sch t v w z", "st"),
    "lt": ("a e i o u y ą ę ė į ų ū", "b c č d dž f g h j k l m n p r s š t v z ž", "st tr"),
    "lv": ("a e i o u ā ē ī ū", "b c č d dz f g ģ h j k ķ l ļ m n ņ p r s š t v z ž", "st tr"),
    "mi": ("a e i o u ā ē ī ō ū", "h k m n ng p r t w wh", ""),
    "ms": ("a e i o u", "b c d f g h j k l m n ng ny p r s t w y", "tr"),
    "mt": ("a e i o u ie", "b ċ d f ġ g għ h ħ j k l m n p q r s t v w x ż z", ""),
    "nb": ("a e i o u y æ ø å", "b d f g h j k l m n p r s t v", "sk st tr"),
    "nl": ("a e i o u aa ee oo uu ie oe eu ui ij", "b d f g h j k l m n p r s t v w z", "st tr"),
    "om": ("a e i o u aa ee ii oo uu", "b c ch d dh f g h j k l m n ny p ph q r s sh t w x y", ""),
    "pap": ("a e i o u", "b ch d f g h k l m n ñ p r s sh t y z", "tr"),
    "pl": ("a e i o u y ą ę ó", "b c ć cz d dz f g h ch j k l ł m n ń p r rz s sz ś t w z ź ż", "st tr pr"),
    "ro": ("a e i o u ă â î", "b c ch d f g gh h j l m n p r s ș t ț v z", "tr pr st"),
    "sk": ("a e i o u y á é í ó ú ý ä ô", "b c č d ď dz dž f g h ch j k l ľ m n ň p r s š t ť v z ž", "st tr pr"),
    "sl": ("a e i o u", "b c č d f g h j k l m n p r s š t v z ž", "st tr pr"),
    "sq": ("a e ë i o u y", "b c ç d dh f g gj h j k l ll m n nj p q r rr s sh t th v x xh z zh", "st"),
    "sv": ("a e i o u y å ä ö", "b d f g h j k l m n p r s sj t v", "st sk tr"),
    "tk": ("a e i o u y ä ö ü", "b ç d f g h j k l m n ň p r s ş t w ý z ž", ""),
    "tn": ("a e i o u ê ô", "b d f g h j k l m n ng p r s t tl tlh ts tsh w y", ""),
    "uz": ("a e i o u oʻ", "b ch d f g gʻ h j k l m n ng p q r s sh t v x y z", ""),
    # Cyrillic
    "bg": ("а е и о у ъ ю я", "б в г д ж з й к л м н п р с т ф х ц ч ш щ", "ст тр пр"),
    "mk": ("а е и о у", "б в г д ѓ ж з ѕ ј к л љ м н њ п р с т ќ ф х ц ч џ ш", "ст тр"),
    "sr": ("а е и о у", "б в г д ђ ж з ј к л љ м н њ п р с т ћ ф х ц ч џ ш", "ст тр пр"),
    "uk": ("а е є и і ї о у ю я", "б в г ґ д ж з й к л м н п р с т ф х ц ч ш щ", "ст тр пр"),
    "kk": ("а ә е ы і о ө у ұ ү", "б в г ғ д ж з й к қ л м н ң п р с т ш", ""),
    "ky": ("а е ы и о ө у ү", "б г д ж з й к л м н ң п р с т ч ш", ""),
    "tt": ("а ә е ы и о ө у ү", "б в г д ж җ з й к л м н ң п р с т х ч ш", ""),
    # other alphabets
    "ka": ("ა ე ი ო უ", "ბ გ დ ვ ზ თ კ ლ მ ნ პ ჟ რ ს ტ ფ ქ ღ ყ შ ჩ ც ძ წ ჭ ხ ჯ ჰ", "მწ"),
    "hy": ("ա ե ի ո օ ու ը", "բ գ դ զ թ ժ լ խ ծ կ հ ձ ղ ճ մ յ ն շ չ պ ջ ռ ս վ տ ր ց փ ք ֆ", ""),
    "ar": ("َ ِ ُ َا ِي ُو", "ب ت ث ج ح خ د ذ ر ز س ش ص ض ط ظ ع غ ف ق ك ل م ن ه و ي", ""),
    "fa": ("ا و ی", "ب پ ت ج چ خ د ر ز ژ س ش ف ق ک گ ل م ن ه", ""),
    "ur": ("ا و ی", "ب پ ت ٹ ج چ خ د ڈ ر ز س ش ف ق ک گ ل م ن ہ", ""),
}
"""Letters for pseudo-text per language (see :func:`pseudo_sentence`).  Vowel entries of Arabic are
harakat (short vowel marks) and long-vowel spellings written after the consonant."""

BRAHMIC_BLOCKS: dict[str, int] = {"hi": 0x0900, "mr": 0x0900, "ne": 0x0900, "bn": 0x0980, "pa": 0x0A00,
                                  "gu": 0x0A80, "or": 0x0B00, "ta": 0x0B80, "te": 0x0C00, "kn": 0x0C80,
                                  "ml": 0x0D00}
"""Languages whose pseudo-text is consonant + vowel-sign syllables of an Indic script (block start)."""

KANA = ("あいうえおかきくけこがぎぐげごさしすせそざじずぜぞたちつてとだでどなにぬねのはひふへほ"
        "ばびぶべぼぱぴぷぺぽまみむめもやゆよらりるれろわん")
PINYIN_INITIALS = "b p m f d t n l g k h j q x zh ch sh r z c s y w".split()
PINYIN_FINALS = "a o e ai ei ao ou an en ang eng ong i ia ie iao iu ian in iang ing u ua uo uai ui uan un uang".split()
JYUTPING_INITIALS = "b p m f d t n l g k ng h gw kw w z c s j".split()
JYUTPING_FINALS = "aa aai aau aam aan aang aap aat aak ai au am an ang e ei eng ek i iu im in ing ip it ik o oi ou on ong ot ok u ui un ung ut uk".split()
ETHIOPIC_ROWS = (0x1200, 0x1208, 0x1218, 0x1228, 0x1230, 0x1238, 0x1240, 0x1260, 0x1270, 0x1278, 0x1290,
                 0x1298, 0x12A0, 0x12A8, 0x12C8, 0x12D8, 0x12E8, 0x12F0, 0x1300, 0x1308, 0x1320, 0x1328,
                 0x1338, 0x1348)

NATIVE_LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "it", "pt")
"""Languages with real sentences in ``data/emotion_lexicon/sentences.jsonl``."""

DONORS: dict[str, tuple[str, ...]] = {
    "germanic": ("de", "en"), "romance": ("es", "it", "fr", "pt"), "any": NATIVE_LANGUAGES}
_FAMILY = {**{k: "germanic" for k in ("af", "da", "is", "lb", "nb", "nl", "sv")},
           **{k: "romance" for k in ("an", "eo", "ht", "ia", "la", "pap", "ro")}}

ESPEAK_TRAIN_VOICES: dict[str, tuple[str, ...]] = {
    "en": ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd"),
    "fr": ("fr", "fr-be", "fr-ch"), "de": ("de",), "es": ("es", "es-419"), "it": ("it",), "pt": ("pt", "pt-br"),
    **{k: (k,) for k in ORTHOGRAPHY},
    **{k: (k,) for k in BRAHMIC_BLOCKS},
    "ja": ("ja",), "cmn": ("cmn-latn-pinyin",), "yue": ("yue-latn-jyutping",), "am": ("am",),
}
"""Training languages → espeak-ng voice names (before ``+variant``)."""

ESPEAK_HELDOUT_VOICES: dict[str, tuple[str, ...]] = {
    "ca": ("ca",), "cs": ("cs",), "el": ("el",), "hu": ("hu",), "ko": ("ko",), "ru": ("ru", "ru-lv"),
    "sw": ("sw",), "tr": ("tr",), "vi": ("vi", "vi-vn-x-central", "vi-vn-x-south")}
"""Held-out languages → espeak-ng voices (split ``heldout_language``)."""

LANGUAGE_WEIGHT: dict[str, float] = {"en": 4.0, "fr": 2.5, "de": 2.5, "es": 2.5, "it": 2.5, "pt": 2.5}
"""Share of espeak training time per language (1.0 unless listed): real sentences weigh more."""


def _normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def evaluation_texts(root: str | os.PathLike | None = None) -> frozenset[str]:
    """Normalised sentences (lower case, no punctuation) of ``tests/*.py`` and ``benchmarks/*.py`` with
    three or more words, plus the held-out emotion prompts (``data/emotion_lexicon/heldout.jsonl``, same
    filter): evaluation text, never training text.

    ``root`` is the repository (default: three folders above this package); absent folders give nothing.
    """
    root = Path(root) if root is not None else _repo_root()
    files = sorted((root / "tests").glob("*.py")) + sorted((root / "benchmarks").glob("*.py"))
    from visemo.train import emotion_tables

    out: set[str] = set()
    for h in emotion_tables.load().heldout:
        norm = _normalize_text(h["text"])
        if len(norm.split()) >= 3 and len(norm) < 200:
            out.add(norm)
    for path in files:
        if not path.exists() or path.name == "test_tts_corpus.py":
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                norm = _normalize_text(node.value)
                if len(norm.split()) >= 3 and len(norm) < 200:
                    out.add(norm)
    return frozenset(out)


def native_sentences(excluded: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """{language: sentences} from ``data/emotion_lexicon/sentences.jsonl`` (neutral and emotional lines, en fr
    de es it pt), minus any whose normalised form is in ``excluded``."""
    from visemo.train import emotion_tables

    tables = emotion_tables.load()
    out: dict[str, list[str]] = defaultdict(list)
    for text, lang in tables.neutral_sentences:
        out[lang].append(text)
    for text, lang, _label in tables.emotional_lines:
        out[lang].append(text)
    return {lang: sorted({t for t in texts if _normalize_text(t) not in excluded})
            for lang, texts in out.items()}


def _syllables(rng: random.Random, language: str) -> str:
    """One pseudo-word in ``language``'s script."""
    n = rng.choices((1, 2, 3, 4), (3, 5, 3, 1))[0]
    if language in BRAHMIC_BLOCKS:
        base = BRAHMIC_BLOCKS[language]
        cons = [chr(c) for c in range(base + 0x15, base + 0x3A) if " LETTER " in unicodedata.name(chr(c), "")
                and not any(r in unicodedata.name(chr(c)) for r in ("NNNA", "LLLA", "RRA"))]
        signs = [chr(c) for c in range(base + 0x3E, base + 0x4D) if "VOWEL SIGN" in unicodedata.name(chr(c), "")
                 and not any(r in unicodedata.name(chr(c)) for r in ("VOCALIC RR", "VOCALIC L", "SHORT"))]
        vowels = [chr(c) for c in range(base + 0x05, base + 0x15) if " LETTER " in unicodedata.name(chr(c), "")
                  and not any(r in unicodedata.name(chr(c)) for r in ("VOCALIC", "SHORT"))]
        word = rng.choice(vowels) if rng.random() < 0.15 else ""
        for _ in range(n):
            word += rng.choice(cons) + (rng.choice(signs) if rng.random() < 0.6 else "")
        return word
    if language == "ja":
        return "".join(rng.choice(KANA) for _ in range(n + 1))
    if language == "cmn":
        return "".join(rng.choice(PINYIN_INITIALS) * (rng.random() < 0.85) + rng.choice(PINYIN_FINALS)
                       + str(rng.randint(1, 4)) for _ in range(min(n, 2)))
    if language == "yue":
        return " ".join(rng.choice(JYUTPING_INITIALS) * (rng.random() < 0.85) + rng.choice(JYUTPING_FINALS)
                        + str(rng.randint(1, 6)) for _ in range(min(n, 2)))
    if language == "am":
        return "".join(chr(rng.choice(ETHIOPIC_ROWS) + rng.choice((0, 0, 1, 2, 3, 4, 5, 6))) for _ in range(n + 1))
    vowels, consonants, clusters = (s.split() for s in ORTHOGRAPHY[language])
    word = ""
    for i in range(n):
        r = rng.random()
        onset = rng.choice(clusters) if clusters and r < 0.08 else rng.choice(consonants) if r < 0.85 or i > 0 else ""
        while i == 0 and len(onset) == 2 and onset[0] == onset[1]:  # no geminate at the start of a word
            onset = rng.choice(consonants)
        coda = rng.choice(consonants) if rng.random() < 0.25 and language not in ("mi", "haw") else ""
        word += onset + rng.choice(vowels) + coda
    return word


def pseudo_sentence(rng: random.Random, language: str) -> str:
    """A pseudo-sentence of 4-12 pseudo-words in ``language``'s own letters (commas for pauses, a full stop).

    Letter-to-sound rules of the language's voice turn it into that language's phones; the words
    mean nothing.  ``language`` must be in :data:`ORTHOGRAPHY`, :data:`BRAHMIC_BLOCKS` or ja, cmn, yue, am.
    """
    words = [_syllables(rng, language) for _ in range(rng.randint(4, 12))]
    out = ""
    for i, w in enumerate(words):
        out += (", " if rng.random() < 0.12 and 0 < i < len(words) - 1 else " " if i else "") + w
    return out + rng.choice((".", ".", ".", "?"))


class TextSource:
    """Texts per language for the corpus; :meth:`sample` draws one utterance's text (1-2 sentences)."""

    def __init__(self, excluded: frozenset[str] | None = None) -> None:
        self.excluded = evaluation_texts() if excluded is None else excluded
        self.native = native_sentences(self.excluded)
        self.written = {lang: [t for t in texts if _normalize_text(t) not in self.excluded]
                        for lang, texts in WRITTEN.items()}

    def _donor(self, rng: random.Random, language: str) -> str:
        donors = DONORS[_FAMILY.get(language, "any")]
        return rng.choice(self.native[rng.choice(donors)])

    def kinds(self, language: str, engine: str = "espeak") -> list[str]:
        """The kinds of text there are for ``language``: ["native"] where real sentences exist, else some of
        "written", "donor" (Latin script; espeak only), "pseudo"."""
        if language in self.native:
            return ["native"]
        kinds = ["written"] if language in self.written else []
        if language in ORTHOGRAPHY and _is_latin(ORTHOGRAPHY[language][0]) and engine == "espeak":
            kinds.append("donor")
        if language in ORTHOGRAPHY or language in BRAHMIC_BLOCKS or language in ("ja", "cmn", "yue", "am"):
            kinds.append("pseudo")
        if not kinds:
            raise ValueError(f"no text for language {language!r}")
        return kinds

    def sentence(self, rng: random.Random, language: str, kind: str = "auto", engine: str = "espeak") -> str:
        """One sentence for ``language``: ``kind`` "native", "written", "donor", "pseudo" or "auto" (native where
        there are real sentences, else one of :meth:`kinds` at random)."""
        if kind == "auto":
            kind = rng.choice(self.kinds(language, engine))
        if kind == "native":
            text = rng.choice(self.native[language])
        elif kind == "written":
            text = rng.choice(self.written[language])
        elif kind == "donor":
            text = self._donor(rng, language)
        else:
            text = pseudo_sentence(rng, language)
        if _normalize_text(text) in self.excluded:  # never: the pools are filtered (pseudo-text too unlikely)
            raise HeldOutViolation(f"evaluation text in the corpus: {text!r}")
        return text

    def sample(self, rng: random.Random, language: str, kind: str = "auto", engine: str = "espeak") -> str:
        """One utterance's text: one sentence, or two joined by a full stop (40 %)."""
        first = self.sentence(rng, language, kind, engine)
        if rng.random() < 0.4:
            second = self.sentence(rng, language, kind, engine)
            return f"{first.rstrip('.?! ')}. {second[:1].upper()}{second[1:]}"
        return first


def _is_latin(letters: str) -> bool:
    return all("LATIN" in unicodedata.name(ch, "LATIN") for ch in letters.replace(" ", ""))


# ============================================================================ phone sets → classes
ESPEAK_IPA_EXTRA: dict[str, str] = {
    "ᵻ": "SPREAD", "ᵿ": "UROUND", "ɚ": "R", "ɝ": "R", "ɫ": "L", "ʲ": "C", "ɹ̩": "R", "ɾ̃": "C",
    "ʋ": "FV", "ɦ": "C", "ʕ": "C", "ʡ": "C", "ɧ": "SH", "ʍ": "W", "ɥ": "W", "ɕ": "SH", "ʑ": "SH",
    "ɬ": "L", "ɮ": "L", "ʘ": "PBM", "ǀ": "C", "ǃ": "C", "ǂ": "C", "ǁ": "L",
    # names some espeak-ng 1.51 phoneme tables give in ASCII or Greek instead of IPA
    "S": "SH", "N": "C", "ε": "MID", "K": "C", "?": "C", "A": "OPEN", "X": "C", "ʰ": "C", "Φ": "PBM",
}
"""espeak IPA names that :func:`ipa_class` does not know (or classes differently than the face shows),
checked before it; the first character of the name is tried too.  Unknown names are counted and reported."""

ITALIAN_IPA = {"i": "i", "e": "e", "E": "ɛ", "a": "a", "o": "o", "O": "ɔ", "u": "u", "j": "j", "w": "w",
               "p": "p", "t": "t", "k": "k", "b": "b", "d": "d", "g": "ɡ", "f": "f", "s": "s", "S": "ʃ",
               "v": "v", "z": "z", "Z": "ʒ", "ts": "ts", "tS": "tʃ", "dz": "dz", "dZ": "dʒ", "m": "m", "n": "n",
               "J": "ɲ", "ng": "ŋ", "nf": "ɱ", "l": "l", "L": "ʎ", "r": "r"}
ITALIAN_IPA.update({f"{v}1": ipa for v, ipa in list(ITALIAN_IPA.items()) if v in "ieEaoOu"})
FINNISH_IPA = {"a": "a", "e": "e", "i": "i", "o": "o", "u": "u", "y": "y", "@": "æ", "7": "ø", "&": "ə",
               "p": "p", "t": "t", "k": "k", "b": "b", "d": "d", "g": "ɡ", "f": "f", "T": "θ", "D": "ð",
               "s": "s", "z": "z", "S": "ʃ", "Z": "ʒ", "h": "h", "v": "ʋ", "m": "m", "n": "n", "N": "ŋ",
               "l": "l", "L": "l", "r": "r", "j": "j", "w": "w"}
FINNISH_IPA.update({f"{k}:": f"{v}ː" for k, v in list(FINNISH_IPA.items())})
CZECH_IPA = {"a": "a", "a:": "aː", "b": "b", "c": "ts", "c~": "tʃ", "ch": "x", "d": "d", "d~": "ɟ",
             "dz": "dz", "dz~": "dʒ", "e": "ɛ", "e:": "ɛː", "f": "f", "g": "ɡ", "h": "ɦ", "i": "ɪ", "i:": "iː",
             "j": "j", "k": "k", "l": "l", "m": "m", "n": "n", "n*": "ŋ", "n~": "ɲ", "o": "o", "o:": "oː",
             "p": "p", "r": "r", "r~": "r̝", "r~*": "r̝̊", "s": "s", "s~": "ʃ", "t": "t", "t~": "c", "u": "u",
             "u:": "uː", "v": "v", "z": "z", "z~": "ʒ"}
CATALAN_IPA = {"ax": "ə", "a": "a", "b": "b", "d": "d", "e": "e", "E": "ɛ", "f": "f", "g": "ɡ", "i": "i",
               "j": "j", "J": "ɲ", "k": "k", "l": "l", "L": "ʎ", "m": "m", "n": "n", "o": "o", "O": "ɔ",
               "p": "p", "r": "ɾ", "rr": "r", "s": "s", "S": "ʃ", "t": "t", "u": "u", "w": "w", "z": "z", "Z": "ʒ"}
CATALAN_IPA.update({f"{v}1": ipa for v, ipa in list(CATALAN_IPA.items()) if v in ("a", "e", "E", "i", "o", "O", "u")})
RUSSIAN_IPA = {"ii": "i", "yy": "ɨ", "uu": "u", "ee": "e", "oo": "o", "aa": "a", "a": "ɐ", "e": "e", "i": "ɪ",
               "y": "ɨ", "u": "ʊ", "ae": "ə", "ay": "ə", "ur": "ʊ", "p": "p", "pp": "pʲ", "b": "b", "bb": "bʲ",
               "t": "t", "tt": "tʲ", "d": "d", "dd": "dʲ", "k": "k", "kk": "kʲ", "g": "ɡ", "gg": "ɡʲ", "c": "ts",
               "ch": "tɕ", "f": "f", "ff": "fʲ", "v": "v", "vv": "vʲ", "s": "s", "ss": "sʲ", "z": "z", "zz": "zʲ",
               "sh": "ʂ", "sch": "ɕː", "zh": "ʐ", "h": "x", "hh": "xʲ", "m": "m", "mm": "mʲ", "n": "n",
               "nn": "nʲ", "l": "ɫ", "ll": "lʲ", "r": "r", "rr": "rʲ", "j": "j"}
INDIC_IPA = {"a": "ə", "aa": "aː", "ih": "ɪ", "iy": "iː", "uh": "ʊ", "uw": "uː", "eh": "e", "ee": "ɛː",
             "ay": "ɛː", "oh": "o", "oo": "oː", "aw": "ɔː", "@": "aː", "w": "o", "f": "f", "k": "k", "g": "ɡ",
             "ch": "tʃ", "T": "ʈ", "D": "ɖ", "N": "ɳ", "th": "t̪", "dh": "d̪", "n": "n", "p": "p", "b": "b",
             "m": "m", "y": "j", "r": "ɾ", "l": "l", "v": "ʋ", "L": "ɭ", "R": "ɽ", "s": "s", "sh": "ʃ",
             "j": "dʒ", "h": "ɦ", "ksh": "kʃ", "sri": "ʃr", "x": "ʔ", "kh": "kʰ", "gh": "ɡʱ", "td": "ʈʰ",
             "tth": "t̪ʰ", "ddh": "d̪ʱ", "bh": "bʱ", "zh": "dʒʱ"}

FESTIVAL_SILENCES = frozenset({"#", "##", "_", "pau", "h#", "brth", "sil"})


@dataclass(frozen=True)
class FestivalVoice:
    """A festival voice: ``name`` (``voice_<name>`` selects it), ISO ``language``, the text ``encoding`` it
    reads, and ``phones``: its phone names → IPA (None: the radio/ARPAbet set, mapped by arpabet_class)."""

    name: str
    language: str
    encoding: str
    phones: dict[str, str] | None


FESTIVAL_VOICES: dict[str, FestivalVoice] = {v.name: v for v in (
    FestivalVoice("lp_diphone", "it", "iso-8859-1", ITALIAN_IPA),
    FestivalVoice("pc_diphone", "it", "iso-8859-1", ITALIAN_IPA),
    FestivalVoice("suo_fi_lj_diphone", "fi", "iso-8859-1", FINNISH_IPA),
    FestivalVoice("hy_fi_mv_diphone", "fi", "iso-8859-1", FINNISH_IPA),
    FestivalVoice("kal_diphone", "en", "iso-8859-1", None),
    FestivalVoice("cmu_us_slt_arctic_hts", "en", "iso-8859-1", None),
    FestivalVoice("ked_diphone", "en", "iso-8859-1", None),
    FestivalVoice("hindi_NSK_diphone", "hi", "utf-8", INDIC_IPA),
    FestivalVoice("marathi_NSK_diphone", "mr", "utf-8", INDIC_IPA),
    FestivalVoice("telugu_NSK_diphone", "te", "utf-8", INDIC_IPA),
    FestivalVoice("czech_dita", "cs", "iso-8859-2", CZECH_IPA),
    FestivalVoice("czech_krb", "cs", "iso-8859-2", CZECH_IPA),
    FestivalVoice("czech_machac", "cs", "iso-8859-2", CZECH_IPA),
    FestivalVoice("czech_ph", "cs", "iso-8859-2", CZECH_IPA),
    FestivalVoice("upc_ca_ona_hts", "ca", "iso-8859-15", CATALAN_IPA),
    FestivalVoice("msu_ru_nsh_clunits", "ru", "utf-8", RUSSIAN_IPA),
)}
"""festival voices this corpus uses (Debian packages: festvox-italp16k, festvox-itapc16k, festvox-suopuhe-lj,
festvox-suopuhe-mv, festvox-kallpc16k, festvox-us-slt-hts, festvox-kdlpc16k, festvox-hi-nsk, festvox-mr-nsk,
festvox-te-nsk; reserved: festvox-czech-dita/-krb/-machac/-ph, festvox-ca-ona-hts, festvox-ru)."""

FLITE_VOICES: dict[str, str] = {"slt": "en", "kal16": "en", "rms": "en", "awb": "en"}


def _is_language_switch(name: str) -> bool:
    """espeak marks a switch to another language's phonemes with an event named like ``(en)``; a few
    1.51 tables also emit a bare length mark or tone digit (``ː``, ``1``) as an event: not a phone either,
    the phone before goes on."""
    return (name.startswith("(") and name.endswith(")")) or (bool(name) and not name.strip("ːˑ0123456789"))


def _espeak_clean(name: str) -> str:
    """An espeak IPA name with the ASCII some 1.51 phoneme tables use made IPA: ``tS`` → ``tʃ``, ``tsh`` → ``tsʰ``,
    marks ``` ` ^ [ - . " # ``` dropped."""
    s = re.sub(r"[`^\[\]\-.\"#]", "", name)
    if len(s) > 1:
        s = s.replace("S", "ʃ").replace("Z", "ʒ")
    return re.sub(r"^([ptkcq]|t[sʃɕʂ]|d[zʒʑ])h", r"\1ʰ", s)


def espeak_ipa_class(name: str) -> str | None:
    """Class of one espeak IPA phoneme name ("" → SIL); None when unknown."""
    if name in ("", SIL) or name.startswith("_"):
        return SIL
    if name in ESPEAK_IPA_EXTRA:
        return ESPEAK_IPA_EXTRA[name]
    clean = _espeak_clean(name)
    if clean in ESPEAK_IPA_EXTRA:
        return ESPEAK_IPA_EXTRA[clean]
    cls = ipa_class(clean) if clean else None
    if cls is None:
        core = "".join(ch for ch in unicodedata.normalize("NFD", clean) if not unicodedata.combining(ch))
        for ch in core:
            if ch in ESPEAK_IPA_EXTRA:
                return ESPEAK_IPA_EXTRA[ch]
    return cls


def festival_phone_class(voice: str, phone: str) -> str | None:
    """Class of ``voice``'s festival phone (``"a1"`` of lp_diphone → OPEN); None when unknown."""
    if phone in FESTIVAL_SILENCES or phone == SIL:
        return SIL
    table = FESTIVAL_VOICES[voice].phones
    if table is None:
        try:
            return arpabet_class(normalize_phone(phone))
        except ValueError:
            return None
    ipa = table.get(phone)
    return ipa_class(ipa) if ipa is not None else None


def flite_phone_class(phone: str) -> str | None:
    """Class of a flite phone (lower-case ARPAbet, ``pau``); None when unknown."""
    try:
        return arpabet_class(normalize_phone(phone))
    except ValueError:
        return None


def classes_of(phones: Sequence[tuple[str, float, float]], classify, duration: float
               ) -> tuple[list[list], list[str]]:
    """(class segments, unknown phone names) for ``phones`` [(name, start_s, end_s)] tiling [0, duration].

    Each phone takes ``classify(name)``; neighbours of one class merge; the result is contiguous
    from 0 to ``duration`` (gaps and edges SIL).
    """
    out: list[list] = []
    unknown: list[str] = []
    t = 0.0
    for name, start, end in phones:
        cls = classify(name)
        if cls is None:
            unknown.append(name)
            cls = "C"
        if start > t + 1e-6:
            _append(out, SIL, t, start)
        _append(out, cls, max(start, t), end)
        t = max(t, end)
    if duration > t + 1e-6 or not out:
        _append(out, SIL, t, duration)
    out[-1][2] = round(duration, 5)
    return out, unknown


def _append(out: list[list], cls: str, start: float, end: float) -> None:
    if end <= start:
        return
    if out and out[-1][0] == cls:
        out[-1][2] = round(end, 5)
    else:
        out.append([cls, round(start, 5), round(end, 5)])


# ============================================================================ engines
@dataclass
class Synthesis:
    """One synthesized utterance: int16 ``audio`` at :data:`SAMPLE_RATE`, ``phones`` [(name, start_s, end_s)]
    tiling the audio (pauses ``"SIL"``)."""

    audio: np.ndarray
    phones: list[tuple[str, float, float]]


def resample_int16(x: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """``x`` (int16 or float) at ``rate`` Hz → int16 at ``target`` Hz (polyphase, anti-aliased)."""
    from scipy.signal import resample_poly

    x = np.asarray(x)
    x = x * 32767.0 if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
    if rate != target:
        frac = Fraction(target, rate)
        x = resample_poly(x, frac.numerator, frac.denominator)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


class _EspeakEventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _EspeakEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EspeakEventId)]


_ESPEAK_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                    ctypes.POINTER(_EspeakEvent))
AUDIO_OUTPUT_SYNCHRONOUS = 2
espeakINITIALIZE_PHONEME_EVENTS = 0x0001
espeakINITIALIZE_PHONEME_IPA = 0x0002
espeakINITIALIZE_DONT_EXIT = 0x8000
espeakEVENT_LIST_TERMINATED, espeakEVENT_PHONEME = 0, 7
espeakRATE, espeakPITCH, espeakRANGE, espeakWORDGAP = 1, 3, 4, 7
espeakCHARS_UTF8 = 1


class EspeakError(RuntimeError):
    """libespeak-ng is missing or refused a voice."""


def have_espeak() -> bool:
    """Whether ``libespeak-ng.so.1`` can be loaded."""
    try:
        _load_espeak()
        return True
    except OSError:
        return False


def _load_espeak() -> ctypes.CDLL:
    name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
    return ctypes.CDLL(name)


class Espeak:
    """espeak-ng in this process through ctypes: synchronous synthesis, phoneme events with IPA names.

    One per process (espeak keeps global state): use :func:`espeak`.
    """

    def __init__(self) -> None:
        try:
            lib = _load_espeak()
        except OSError as err:
            raise EspeakError("libespeak-ng.so.1 not found: apt-get install libespeak-ng1 (or espeak-ng)") from err
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_SetSynthCallback.argtypes = [_ESPEAK_CALLBACK]
        self.lib = lib
        self.rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
                                          espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_PHONEME_IPA
                                          | espeakINITIALIZE_DONT_EXIT)
        if self.rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({self.rate})")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._callback = _ESPEAK_CALLBACK(self._on_synth)  # keep a reference: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(self, wav, n, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != espeakEVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == espeakEVENT_PHONEME:
                name = bytes(ev.id.string).split(b"\0")[0].decode("utf-8", "replace")
                self._events.append((int(ev.sample), name))
            i += 1
        return 0

    def synth_raw(self, text: str, voice: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50,
                  wordgap: int = 0) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """Synthesize in this process (changes espeak's hidden state: see :meth:`synth`)."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise EspeakError(f"espeak-ng has no voice {voice!r}")
        for param, value in ((espeakRATE, rate), (espeakPITCH, pitch), (espeakRANGE, pitch_range),
                             (espeakWORDGAP, wordgap)):
            self.lib.espeak_SetParameter(param, int(value), 0)
        self._chunks, self._events = [], []
        data = text.encode("utf-8") + b"\0"
        err = self.lib.espeak_Synth(data, len(data), 0, 0, 0, espeakCHARS_UTF8, None, None)
        if err != 0:
            raise EspeakError(f"espeak_Synth failed ({err}) for {voice!r}")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return audio.astype(np.int16), list(self._events)

    def synth(self, text: str, voice: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50,
              wordgap: int = 0) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """(int16 samples at :attr:`rate` Hz, [(sample index, IPA name)]) for ``text`` spoken by ``voice``
        (``"pl"``, ``"en-us+m3"``) at ``rate`` words/minute, ``pitch`` and ``pitch_range`` 0-100, ``wordgap``
        (×10 ms).  Names are espeak's IPA for each phoneme ("" for a pause); sample indices count from the
        start of this utterance.

        espeak-ng keeps state between utterances (a flutter phase, gain control, libc ``rand`` for noise,
        the echo buffer), so the same call gives slightly different audio after other speech.  Each
        utterance is therefore synthesized in a forked child of this never-speaking process, with
        ``srand(0)``: the same arguments give the same samples, whatever was synthesized before.
        """
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: synthesize, send, leave without cleanup handlers
            code = 0
            try:
                os.close(read_fd)
                ctypes.CDLL(None).srand(0)
                try:
                    payload = pickle.dumps(self.synth_raw(text, voice, rate, pitch, pitch_range, wordgap))
                except EspeakError as err:
                    payload = pickle.dumps(str(err))
                with os.fdopen(write_fd, "wb") as f:
                    f.write(payload)
            except BaseException:  # noqa: BLE001 - a forked child must never return into the caller
                code = 1
            os._exit(code)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as f:
            payload = f.read()
        _, status = os.waitpid(pid, 0)
        if not payload:
            raise EspeakError(f"espeak child for {voice!r} died (status {status})")
        result = pickle.loads(payload)
        if isinstance(result, str):
            raise EspeakError(result)
        return result


_ESPEAK: Espeak | None = None


def espeak() -> Espeak:
    """The process's :class:`Espeak` (created on first use)."""
    global _ESPEAK
    if _ESPEAK is None:
        _ESPEAK = Espeak()
    return _ESPEAK


STOP_CLOSURE_MAX = 0.08
"""Closure (s) given to a stop after a pause or at the start, where espeak's silence holds both."""


def _is_stop(name: str) -> bool:
    core = unicodedata.normalize("NFD", name)
    return bool(core) and core[0] in "pbtdkgɡcɟqʈɖʔ" and espeak_ipa_class(name) in ("PBM", "C", "S", "SH")


NOISY_VARIANTS: frozenset[str] = frozenset({"f2", "f3", "f4", "f5", "m2", "pablo", "Alicia", "Marco", "announcer"})
"""espeak-ng 1.51 variants with echo or breath noise: their closures are not digital silence, so closure
lengths come from a twin rendering by the plain voice (see :func:`zero_runs`)."""


def zero_runs(audio: np.ndarray, events: Sequence[tuple[int, str]]) -> list[int]:
    """Per event, the number of samples of digital silence (exact zeros) right before it, not reaching back
    past the previous event."""
    silent = np.asarray(audio) == 0
    out, prev = [], 0
    for sample, _name in events:
        s = min(max(int(sample), 0), len(silent))
        j = s
        while j > prev and silent[j - 1]:
            j -= 1
        out.append(s - j)
        prev = s
    return out


def espeak_phones(audio: np.ndarray, events: Sequence[tuple[int, str]], rate: int,
                  correct_closures: bool = True, closures: Sequence[int] | None = None
                  ) -> list[tuple[str, float, float]]:
    """Phones [(IPA name or "SIL", start_s, end_s)] tiling ``audio`` (``rate`` Hz) from espeak's events.

    A phone ends where the next begins; pauses ("" names) and the lead-in become SIL; language-switch
    marks (``(en)``) are dropped.  With ``correct_closures``, the digital silence right before a phone's
    event (``closures``: samples per event, default :func:`zero_runs` of ``audio``) moves into that phone
    when the previous phone is speech: espeak emits a voiceless stop's event at the burst and counts the
    closure in the phone before.  After a pause a stop gets at most :data:`STOP_CLOSURE_MAX` of it.
    """
    n = len(audio)
    runs = list(closures) if closures is not None else zero_runs(audio, events)
    marks: list[tuple[int, str, int]] = []
    for (sample, name), run in zip(events, runs):
        if _is_language_switch(name):
            continue
        sample = min(max(int(sample), 0), n)
        label = name if name else SIL
        if marks and marks[-1][0] == sample:
            marks[-1] = (sample, label, run)  # a later event at the same sample wins
        elif marks and marks[-1][1] == SIL and label == SIL:
            continue
        else:
            marks.append((sample, label, run))
    if not marks or marks[0][0] > 0:
        marks.insert(0, (0, SIL, 0))
    starts = [m[0] for m in marks]
    if correct_closures:
        for i in range(1, len(marks)):
            s, name, run = marks[i]
            if name == SIL or run <= 0:
                continue
            if marks[i - 1][1] != SIL:
                starts[i] = max(s - run, starts[i - 1] + int(0.01 * rate))
            elif _is_stop(name):
                starts[i] = max(s - run, s - int(STOP_CLOSURE_MAX * rate), starts[i - 1] + 1)
            starts[i] = min(starts[i], s)
    phones: list[tuple[str, float, float]] = []
    for i, (_s, name, _run) in enumerate(marks):
        start = starts[i]
        end = starts[i + 1] if i + 1 < len(marks) else n
        if end <= start:
            continue
        if phones and phones[-1][0] == SIL and name == SIL:
            phones[-1] = (SIL, phones[-1][1], end / rate)
        else:
            phones.append((name, start / rate, end / rate))
    return _absorb_voiced_pauses(phones, audio, rate)


VOICED_PAUSE_MAX = 0.08
"""Longest pause event (s) that :func:`espeak_phones` may find voiced and give to its neighbours."""


def _absorb_voiced_pauses(phones: list[tuple[str, float, float]], audio: np.ndarray, rate: int
                          ) -> list[tuple[str, float, float]]:
    """espeak also emits its pause phoneme between two vowels of neighbouring words ("the apple") where
    the voice carries on through it: a short SIL with speech in it.  Such a pause (under
    :data:`VOICED_PAUSE_MAX`, louder than 0.3 × the median phone, mostly non-zero) is split between the
    phones on either side at its middle."""
    x = np.asarray(audio, dtype=np.float64)

    def rms(a: float, b: float) -> float:
        seg = x[int(a * rate):int(b * rate)]
        return float(np.sqrt(np.mean(seg ** 2))) if len(seg) else 0.0

    levels = [rms(s, e) for p, s, e in phones if p != SIL and e - s >= 0.03]
    if not levels:
        return phones
    ref = float(np.median(levels))
    out = list(phones)
    for i in range(1, len(out) - 1):
        name, s, e = out[i]
        if name != SIL or e - s >= VOICED_PAUSE_MAX or out[i - 1][0] == SIL or out[i + 1][0] == SIL:
            continue
        seg = audio[int(s * rate):int(e * rate)]
        if len(seg) and rms(s, e) > 0.3 * ref and np.mean(seg == 0) < 0.5:
            mid = (s + e) / 2
            out[i - 1] = (out[i - 1][0], out[i - 1][1], mid)
            out[i + 1] = (out[i + 1][0], mid, out[i + 1][2])
            out[i] = (SIL, mid, mid)
    return [p for p in out if p[2] > p[1]]


def espeak_utterance(text: str, voice: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50,
                     wordgap: int = 0, engine: Espeak | None = None) -> Synthesis:
    """``text`` spoken by espeak ``voice``, resampled to :data:`SAMPLE_RATE`, with closure-corrected phones.

    For a :data:`NOISY_VARIANTS` voice the closures are measured on a twin rendering by the plain voice
    (same text and parameters) and applied event by event; if the twin's phonemes differ, none are moved.
    """
    eng = engine or espeak()
    audio, events = eng.synth(text, voice, rate, pitch, pitch_range, wordgap)
    closures = None
    if _variant(voice) in NOISY_VARIANTS:
        twin_audio, twin_events = eng.synth(text, voice.split("+")[0], rate, pitch, pitch_range, wordgap)
        if [n for _, n in twin_events] == [n for _, n in events]:
            closures = zero_runs(twin_audio, twin_events)
        else:
            closures = [0] * len(events)
    return Synthesis(resample_int16(audio, eng.rate), espeak_phones(audio, events, eng.rate, closures=closures))


@dataclass(frozen=True)
class TimingReport:
    """How espeak's phoneme events sit on the waveform (see :func:`measure_espeak_timing`)."""

    utterances: int
    stops: int
    closure_ms_median: float     # digital silence right before a voiceless stop's event (its closure)
    closure_ms_p90: float
    burst_exact_fraction: float  # share of those events within 1 ms of the end of the silence (the burst);
                                 # the rest are unreleased stops (Cantonese finals): event at closure onset
    onset_offset_ms_median: float  # after a pause: next phone's event - first non-zero sample
    onset_offset_ms_max: float
    pbm_closed_fraction: float   # share of corrected PBM segments whose first 20 ms are quieter than the vowel


def measure_espeak_timing(texts: Sequence[tuple[str, str]], engine: Espeak | None = None) -> TimingReport:
    """Measure espeak's event timing on ``texts`` [(voice, text)]: closures before voiceless stops, whether the
    stop's event falls on the burst, and how a phone after a pause lines up with the sound's onset."""
    eng = engine or espeak()
    closures, bursts, onsets, closed = [], [], [], []
    n_stops = 0
    for voice, text in texts:
        audio, events = eng.synth(text, voice)
        rate = eng.rate
        nz = audio != 0
        for k, (s, name) in enumerate(events):
            if not name or s <= 0 or s >= len(audio):
                continue
            core = unicodedata.normalize("NFD", name)
            prev = events[k - 1][1] if k else ""
            if core[0] in "ptk" and prev:
                n_stops += 1
                j = s
                while j > 0 and not nz[j - 1]:
                    j -= 1
                closures.append((s - j) / rate * 1000)
                e = s
                while e < len(audio) and not nz[e]:
                    e += 1
                bursts.append(abs(e - s) / rate * 1000 <= 1.0)
            if not prev and k:  # after a pause: where does the sound start?
                e = events[k - 1][0]
                while e < len(audio) and not nz[e]:
                    e += 1
                onsets.append((s - e) / rate * 1000)
        phones = espeak_phones(audio, events, rate)
        x = audio.astype(np.float64)
        for i, (name, start, end) in enumerate(phones):
            if espeak_ipa_class(name) == "PBM" and 0 < i < len(phones) - 1 and phones[i - 1][0] != SIL:
                a, b = int(start * rate), int(min(end, start + 0.02) * rate)
                pa, pb = int(phones[i - 1][1] * rate), int(phones[i - 1][2] * rate)
                if b > a and pb > pa:
                    closed.append(np.sqrt(np.mean(x[a:b] ** 2)) < 0.5 * np.sqrt(np.mean(x[pa:pb] ** 2)))
    c = np.array(closures or [0.0])
    o = np.abs(np.array(onsets or [0.0]))
    return TimingReport(len(texts), n_stops, float(np.median(c)), float(np.percentile(c, 90)),
                        float(np.mean(bursts)) if bursts else float("nan"), float(np.median(o)), float(o.max()),
                        float(np.mean(closed)) if closed else float("nan"))


def have_festival() -> bool:
    """Whether the ``festival`` command is installed."""
    return shutil.which("festival") is not None


def festival_voice_installed(voice: str) -> bool:
    """Whether festival's ``voice`` (e.g. ``"lp_diphone"``) is installed under /usr/share/festival/voices."""
    root = Path("/usr/share/festival/voices")
    return have_festival() and any(root.glob(f"*/{voice}"))


def _scheme_string(text: str) -> str:
    return text.replace("\\", " ").replace('"', " ")


def festival_synth_batch(voice: str, items: Sequence[tuple[str, float]], workdir: str | os.PathLike
                         ) -> list[Synthesis | str]:
    """Synthesize [(text, duration_stretch)] with festival ``voice`` in one festival process.

    Returns a :class:`Synthesis` per item, or an error message for an item festival did not write.
    """
    spec = FESTIVAL_VOICES[voice]
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    lines = [f"(voice_{voice})"]
    for i, (text, stretch) in enumerate(items):  # unwind-protect: one bad text fails alone, not the batch
        lines.append(f"(Parameter.set 'Duration_Stretch {stretch:.3f})")
        lines.append(f'(unwind-protect (begin (set! utt (utt.synth (Utterance Text "{_scheme_string(text)}"))) '
                     f'(utt.save.wave utt "{work / f"u{i}.wav"}" \'riff) (utt.save.segs utt "{work / f"u{i}.segs"}")) '
                     f'(format t "visemo-failed {i}\\n"))')
    script = work / "batch.scm"
    script.write_bytes(("\n".join(lines) + "\n").encode(spec.encoding, errors="replace"))
    res = subprocess.run(["festival", "-b", str(script)], capture_output=True, timeout=120 + 30 * len(items))
    import soundfile as sf

    out: list[Synthesis | str] = []
    for i in range(len(items)):
        wav, segs = work / f"u{i}.wav", work / f"u{i}.segs"
        if not (wav.exists() and segs.exists()):
            out.append(f"festival wrote nothing (rc {res.returncode}): "
                       f"{res.stderr.decode('utf-8', 'replace')[-300:].strip()}")
            continue
        x, rate = sf.read(str(wav), dtype="int16")
        if x.ndim > 1:
            x = x[:, 0]
        audio = resample_int16(x, rate)
        phones, t = [], 0.0
        for line in segs.read_text(encoding=spec.encoding, errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and re.match(r"^[0-9.]+$", parts[0]):
                end = float(parts[0])
                name = SIL if parts[2] in FESTIVAL_SILENCES else parts[2]
                if end > t:
                    phones.append((name, t, end))
                    t = end
        out.append(Synthesis(audio, phones))
        wav.unlink()
        segs.unlink()
    return out


def have_flite() -> bool:
    """Whether the ``flite`` command is installed."""
    return shutil.which("flite") is not None


def parse_psdur(text: str) -> list[tuple[str, float, float]]:
    """flite's ``-psdur`` listing (``phone:end_s`` pairs) → [(phone or "SIL", start_s, end_s)], each phone
    starting where the previous ended (the parser of ``tests/tts.py``, keeping flite's own phone names)."""
    pairs = re.findall(r"([A-Za-z#+_]+[0-9]?):([0-9]*\.?[0-9]+)", text)
    out, start = [], 0.0
    for phone, end in pairs:
        end = float(end)
        if end > start:
            out.append((SIL if phone in ("pau", "h#") else phone, start, end))
            start = end
    return out


def flite_synth(text: str, voice: str, stretch: float, f0_mean: float, workdir: str | os.PathLike) -> Synthesis:
    """``text`` spoken by flite ``voice`` with ``duration_stretch`` and ``int_f0_target_mean`` (Hz)."""
    import soundfile as sf

    wav = Path(workdir) / f"flite{os.getpid()}.wav"
    res = subprocess.run(["flite", "-voice", voice, "-psdur", "--setf", f"duration_stretch={stretch:.3f}",
                          "--setf", f"int_f0_target_mean={f0_mean:.0f}", "-t", text, "-o", str(wav)],
                         capture_output=True, text=True, timeout=60, check=True)
    x, rate = sf.read(str(wav), dtype="int16")
    wav.unlink()
    return Synthesis(resample_int16(x, rate), parse_psdur(res.stdout))


# ============================================================================ plan
@dataclass(frozen=True)
class UtteranceSpec:
    """One planned utterance: everything needed to synthesize it again, identically."""

    id: str
    engine: str
    voice: str
    language: str
    split: str
    text: str
    params: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class CorpusConfig:
    """What to build: ``hours`` of training audio (shares per engine), utterance counts of the held-out splits."""

    hours: float = 4.0
    seed: int = 0
    splits: tuple[str, ...] = SPLITS
    espeak_share: float = 0.72
    festival_share: float = 0.18
    flite_share: float = 0.10
    heldout_reserved: int = 60
    heldout_language: int = 100
    heldout_voice: int = 100
    engines: tuple[str, ...] = ("espeak", "festival", "flite")
    languages: tuple[str, ...] | None = None  # espeak training languages (None: all of ESPEAK_TRAIN_VOICES)


MEAN_SECONDS = {"espeak": 4.4, "festival": 4.3, "flite": 4.2}
"""Rough mean utterance length per engine (s), to turn hours into utterance counts (measured on a pilot)."""


def _rng(seed: int, *key) -> random.Random:
    digest = hashlib.sha256(repr((seed,) + key).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


def _espeak_params(rng: random.Random) -> dict:
    return {"rate": int(round(175 * math.exp(rng.gauss(0, 0.18)))), "pitch": rng.randint(20, 80),
            "range": rng.randint(15, 90), "wordgap": rng.choice((0, 0, 0, 0, 1, 2)),
            "lead": round(rng.uniform(0.05, 0.45), 3), "tail": round(rng.uniform(0.05, 0.45), 3)}


def _festival_params(rng: random.Random) -> dict:
    return {"stretch": round(math.exp(rng.gauss(0, 0.12)), 3),
            "lead": round(rng.uniform(0.0, 0.3), 3), "tail": round(rng.uniform(0.0, 0.3), 3)}


def _flite_params(rng: random.Random, voice: str) -> dict:
    base = {"slt": 170.0, "kal16": 105.0, "rms": 100.0, "awb": 110.0}[voice]
    return {"stretch": round(math.exp(rng.gauss(0, 0.12)), 3), "f0": round(base * math.exp(rng.gauss(0, 0.12)), 1),
            "lead": round(rng.uniform(0.0, 0.3), 3), "tail": round(rng.uniform(0.0, 0.3), 3)}


def _available_festival(voices: Iterable[str]) -> list[str]:
    return [v for v in voices if festival_voice_installed(v)]


def plan(config: CorpusConfig, texts: TextSource | None = None) -> list[UtteranceSpec]:
    """The utterances to build, in order: a pure function of ``config`` (and installed engines/voices).

    Counts come from ``config.hours`` and :data:`MEAN_SECONDS`; each utterance's text and speaker
    parameters come from its own random generator (seed, id), so a plan never depends on what was built.
    """
    texts = texts or TextSource()
    specs: list[UtteranceSpec] = []
    seed = config.seed

    def add(engine: str, voice: str, language: str, split: str, index: int, kind: str = "auto") -> None:
        uid = f"{engine}-{voice.replace('+', '_')}-{index:05d}"
        rng = _rng(seed, uid)
        text = texts.sample(rng, language, kind, engine)
        if engine == "espeak":
            params = _espeak_params(rng)
        elif engine == "festival":
            params = _festival_params(rng)
        else:
            params = _flite_params(rng, voice)
        check_split(engine, voice, language, split)
        specs.append(UtteranceSpec(uid, engine, voice, language, split, text, params))

    use_espeak = "espeak" in config.engines and have_espeak()
    use_festival = "festival" in config.engines and have_festival()
    use_flite = "flite" in config.engines and have_flite()
    train_languages = {k: v for k, v in ESPEAK_TRAIN_VOICES.items()
                       if config.languages is None or k in config.languages}
    train_seconds = config.hours * 3600
    if "train" in config.splits:
        if use_espeak:
            total_w = sum(LANGUAGE_WEIGHT.get(lang, 1.0) for lang in train_languages)
            for lang, voices in train_languages.items():
                seconds = train_seconds * config.espeak_share * LANGUAGE_WEIGHT.get(lang, 1.0) / total_w
                n = max(1, round(seconds / MEAN_SECONDS["espeak"]))
                for i in range(n):
                    rng = _rng(seed, "espeak-voice", lang, i)
                    voice = rng.choice(voices)
                    variant = rng.choice(TRAIN_ESPEAK_VARIANTS)
                    name = f"{voice}+{variant}" if variant else voice
                    add("espeak", name, lang, "train", _counter(specs, "espeak", name))
        if use_festival:
            voices = _available_festival(v for v in FESTIVAL_VOICES
                                         if split_for("festival", v, FESTIVAL_VOICES[v].language) == "train")
            for v in voices:
                seconds = train_seconds * config.festival_share / max(len(voices), 1)
                for i in range(max(1, round(seconds / MEAN_SECONDS["festival"]))):
                    add("festival", v, FESTIVAL_VOICES[v].language, "train", i)
        if use_flite:
            voices = [v for v in FLITE_VOICES if split_for("flite", v, "en") == "train"]
            for v in voices:
                seconds = train_seconds * config.flite_share / len(voices)
                for i in range(max(1, round(seconds / MEAN_SECONDS["flite"]))):
                    add("flite", v, "en", "train", i)
    if "heldout_reserved" in config.splits and use_festival:
        voices = _available_festival(sorted(RESERVED_FESTIVAL_VOICES))
        for k in range(config.heldout_reserved if voices else 0):
            v = voices[k % len(voices)]
            add("festival", v, FESTIVAL_VOICES[v].language, "heldout_reserved", k // len(voices))
    if "heldout_language" in config.splits and use_espeak:
        pairs = [(lang, v) for lang, vs in ESPEAK_HELDOUT_VOICES.items() for v in vs]
        for k in range(config.heldout_language):
            rng = _rng(seed, "heldout-language", k)
            lang, voice = pairs[k % len(pairs)]
            variant = rng.choice(TRAIN_ESPEAK_VARIANTS + HELDOUT_ESPEAK_VARIANTS)
            name = f"{voice}+{variant}" if variant else voice
            add("espeak", name, lang, "heldout_language", _counter(specs, "espeak", name))
    if "heldout_voice" in config.splits:
        pool: list[tuple[str, str, str]] = []
        if use_espeak:
            pool += [("espeak", f"{v}+{var}", lang) for lang in ("en", "fr", "de", "es", "it", "pt", "pl", "nl", "hi",
                                                                 "ja", "sv", "ro")
                     for v in ESPEAK_TRAIN_VOICES[lang][:1] for var in HELDOUT_ESPEAK_VARIANTS]
        extra = [(e, v, "en") for e, v in sorted(HELDOUT_VOICES)
                 if (e == "flite" and use_flite) or (e == "festival" and use_festival and festival_voice_installed(v))]
        n_extra = min(len(extra) * 12, config.heldout_voice // 3) if extra else 0
        for k in range(config.heldout_voice):
            if k < n_extra:
                engine, voice, lang = extra[k % len(extra)]
            elif pool:
                engine, voice, lang = _rng(seed, "heldout-voice", k).choice(pool)
            else:
                break
            add(engine, voice, lang, "heldout_voice", _counter(specs, engine, voice))
    return specs


def _counter(specs: Sequence[UtteranceSpec], engine: str, voice: str) -> int:
    prefix = f"{engine}-{voice.replace('+', '_')}-"
    return sum(1 for s in specs if s.id.startswith(prefix))


# ============================================================================ build
def _pad(syn: Synthesis, lead: float, tail: float) -> Synthesis:
    a, b = int(round(lead * SAMPLE_RATE)), int(round(tail * SAMPLE_RATE))
    audio = np.concatenate([np.zeros(a, np.int16), syn.audio, np.zeros(b, np.int16)])
    shift = a / SAMPLE_RATE
    phones = [(SIL, 0.0, shift)] if a else []
    for name, s, e in syn.phones:
        if phones and phones[-1][0] == SIL and name == SIL:
            phones[-1] = (SIL, phones[-1][1], e + shift)
        else:
            phones.append((name, s + shift, e + shift))
    return Synthesis(audio, phones)


def _tile(phones: Sequence[tuple[str, float, float]], duration: float) -> list[list]:
    """Phones clipped to [0, duration], gap-free (gaps SIL), rounded to 0.1 ms."""
    out: list[list] = []
    t = 0.0
    for name, s, e in phones:
        s, e = max(s, t), min(e, duration)
        if e - s < 1e-4:
            continue
        if s - t >= 1e-4:
            out.append([SIL, round(t, 5), round(s, 5)])
        out.append([name, round(s, 5), round(e, 5)])
        t = e
    if duration - t >= 1e-4 or not out:
        if out and out[-1][0] == SIL:
            out[-1][2] = round(duration, 5)
        else:
            out.append([SIL, round(t, 5), round(duration, 5)])
    out[-1][2] = round(duration, 5)
    for i in range(1, len(out)):
        out[i][1] = out[i - 1][2]
    return out


def _classifier(spec: UtteranceSpec):
    if spec.engine == "espeak":
        return espeak_ipa_class
    if spec.engine == "festival":
        return lambda p: SIL if p == SIL else festival_phone_class(spec.voice, p)
    return lambda p: SIL if p == SIL else flite_phone_class(p)


PHONE_SETS = {"espeak": "ipa (espeak-ng)", "flite": "arpabet (flite)"}


def record(spec: UtteranceSpec, syn: Synthesis) -> tuple[dict, list[str]]:
    """The JSON record of ``spec`` synthesized as ``syn`` (padded by its lead/tail), and unknown phone names."""
    syn = _pad(syn, spec.params.get("lead", 0.0), spec.params.get("tail", 0.0))
    duration = len(syn.audio) / SAMPLE_RATE
    phones = _tile(syn.phones, duration)
    classes, unknown = classes_of([tuple(p) for p in phones], _classifier(spec), duration)
    phone_set = PHONE_SETS.get(spec.engine) or (
        "arpabet (festival radio)" if FESTIVAL_VOICES[spec.voice].phones is None else f"festival {spec.voice}")
    rec = {"id": spec.id, "engine": spec.engine, "voice": spec.voice, "language": spec.language,
           "split": spec.split, "text": spec.text, "sample_rate": SAMPLE_RATE, "duration": round(duration, 5),
           "phones": phones, "classes": classes, "phone_set": phone_set, "params": spec.params}
    return rec, unknown


def _paths(out_dir: Path, spec: UtteranceSpec) -> tuple[Path, Path]:
    return out_dir / spec.split / f"{spec.id}.wav", out_dir / spec.split / f"{spec.id}.json"


def _done(out_dir: Path, spec: UtteranceSpec) -> bool:
    wav, js = _paths(out_dir, spec)
    return (wav.exists() and js.exists()) or js.with_suffix(".rejected").exists()


def _write(out_dir: Path, spec: UtteranceSpec, syn: Synthesis | str) -> dict:
    """Write one utterance (wav, then json last so a json means complete); returns a status dict."""
    import soundfile as sf

    check_split(spec.engine, spec.voice, spec.language, spec.split)  # again, right before anything is written
    wav, js = _paths(out_dir, spec)
    wav.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(syn, str) or len(syn.audio) == 0 or not syn.phones:
        reason = syn if isinstance(syn, str) else "no audio or no phones"
        js.with_suffix(".rejected").write_text(json.dumps({"id": spec.id, "reason": reason}) + "\n")
        return {"id": spec.id, "status": "rejected", "reason": reason}
    rec, unknown = record(spec, syn)
    if unknown:
        reason = f"unknown phones {sorted(set(unknown))}"
        js.with_suffix(".rejected").write_text(json.dumps({"id": spec.id, "reason": reason, "unknown": unknown}) + "\n")
        return {"id": spec.id, "status": "rejected", "reason": reason, "unknown": unknown}
    tmp = wav.with_suffix(f".{os.getpid()}.tmp.wav")
    sf.write(str(tmp), syn_audio(spec, syn), SAMPLE_RATE, subtype="PCM_16")
    os.replace(tmp, wav)
    tmpj = js.with_suffix(f".{os.getpid()}.tmp")
    tmpj.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmpj, js)
    return {"id": spec.id, "status": "written", "duration": rec["duration"]}


def syn_audio(spec: UtteranceSpec, syn: Synthesis) -> np.ndarray:
    """The audio written for ``spec``: ``syn.audio`` with its lead and tail silence."""
    return _pad(syn, spec.params.get("lead", 0.0), spec.params.get("tail", 0.0)).audio


def _run_task(task: tuple[str, list[UtteranceSpec]]) -> list[dict]:
    """Synthesize and write one task's utterances (one engine; festival: one voice); runs in a worker."""
    out_dir, specs = Path(task[0]), task[1]
    results = []
    engine = specs[0].engine
    if engine == "espeak":
        eng = espeak()
        for spec in specs:
            p = spec.params
            try:
                syn: Synthesis | str = espeak_utterance(spec.text, spec.voice, p["rate"], p["pitch"], p["range"],
                                                        p["wordgap"], eng)
            except EspeakError as err:
                syn = str(err)
            results.append(_write(out_dir, spec, syn))
    elif engine == "festival":
        with tempfile.TemporaryDirectory(prefix="visemo-fest-") as tmp:
            syns = festival_synth_batch(specs[0].voice, [(s.text, s.params["stretch"]) for s in specs], tmp)
        for spec, syn in zip(specs, syns):
            results.append(_write(out_dir, spec, syn))
    else:
        with tempfile.TemporaryDirectory(prefix="visemo-flite-") as tmp:
            for spec in specs:
                try:
                    syn = flite_synth(spec.text, spec.voice, spec.params["stretch"], spec.params["f0"], tmp)
                except subprocess.SubprocessError as err:
                    syn = f"flite failed: {err}"
                results.append(_write(out_dir, spec, syn))
    return results


def _tasks(out_dir: Path, specs: Sequence[UtteranceSpec], chunk: int = 24) -> list[tuple[str, list[UtteranceSpec]]]:
    groups: dict[tuple[str, str], list[UtteranceSpec]] = defaultdict(list)
    for s in specs:
        groups[(s.engine, s.voice if s.engine == "festival" else "")].append(s)
    tasks = []
    for (engine, _voice), group in groups.items():
        size = 12 if engine == "festival" else chunk
        for i in range(0, len(group), size):
            tasks.append((str(out_dir), group[i:i + size]))
    # interleave engines so both workers stay busy and progress reads evenly
    return sorted(tasks, key=lambda t: (hashlib.md5(t[1][0].id.encode()).hexdigest()))


def build(out_dir: str | os.PathLike, config: CorpusConfig, workers: int = 2, progress: bool = True,
          texts: TextSource | None = None) -> list[dict]:
    """Build (or finish) the corpus in ``out_dir``; returns the records of all written utterances, in plan order.

    Utterances whose wav and json exist (or that were rejected before) are skipped; ``manifest.jsonl`` and
    ``manifest_<split>.jsonl`` are rewritten from the json files at the end.  Rejected utterances (a phone
    with no class, a synthesizer error) are listed in ``rejected.jsonl``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specs = plan(config, texts)
    todo = [s for s in specs if not _done(out, s)]
    tasks = _tasks(out, todo)
    t0, done, seconds = time.time(), 0, 0.0
    if progress:
        print(f"{len(specs)} utterances planned, {len(specs) - len(todo)} already there, "
              f"{len(todo)} to synthesize in {len(tasks)} tasks on {workers} processes", flush=True)
    if tasks:
        if workers > 1:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(workers) as pool:
                for res in pool.imap_unordered(_run_task, tasks):
                    done, seconds = _progress(res, done, seconds, len(todo), t0, progress)
        else:
            for task in tasks:
                done, seconds = _progress(_run_task(task), done, seconds, len(todo), t0, progress)
    return write_manifests(out, specs)


def _progress(res: list[dict], done: int, seconds: float, total: int, t0: float, show: bool) -> tuple[int, float]:
    done += len(res)
    seconds += sum(r.get("duration", 0.0) for r in res)
    if show:
        el = time.time() - t0
        print(f"\r  {done}/{total} utterances, {seconds / 60:.1f} min of audio, {el:.0f} s "
              f"({seconds / max(el, 1e-9):.0f}× real time)", end="", flush=True)
        if done >= total:
            print(flush=True)
    return done, seconds


def write_manifests(out_dir: str | os.PathLike, specs: Sequence[UtteranceSpec]) -> list[dict]:
    """Rewrite ``manifest.jsonl``, ``manifest_<split>.jsonl`` and ``rejected.jsonl`` of ``out_dir`` for ``specs``.

    Splits that ``specs`` do not touch keep their rows (a corpus can be made a split at a time).
    """
    out = Path(out_dir)
    records, rejected = [], []
    made = {spec.split for spec in specs}
    kept = {split: [] for split in SPLITS}
    if (out / "manifest.jsonl").is_file():
        for line in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("split") in kept and row["split"] not in made and (out / row["wav"]).is_file():
                kept[row["split"]].append(line)
    for spec in specs:
        wav, js = _paths(out, spec)
        if js.exists() and wav.exists():
            rec = json.loads(js.read_text(encoding="utf-8"))
            check_split(rec["engine"], rec["voice"], rec["language"], rec["split"])
            records.append(rec)
        elif js.with_suffix(".rejected").exists():
            rejected.append(json.loads(js.with_suffix(".rejected").read_text()))
    rows = kept
    for rec in records:
        rows[rec["split"]].append(json.dumps(
            {"id": rec["id"], "split": rec["split"], "wav": f"{rec['split']}/{rec['id']}.wav",
             "json": f"{rec['split']}/{rec['id']}.json", "engine": rec["engine"], "voice": rec["voice"],
             "language": rec["language"], "duration": rec["duration"]}, ensure_ascii=False))
    (out / "manifest.jsonl").write_text("".join(r + "\n" for split in SPLITS for r in rows[split]), encoding="utf-8")
    for split in SPLITS:
        path = out / f"manifest_{split}.jsonl"
        if rows[split]:
            path.write_text("".join(r + "\n" for r in rows[split]), encoding="utf-8")
        elif path.exists():
            path.unlink()
    (out / "rejected.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejected),
                                        encoding="utf-8")
    return records


# ============================================================================ summary
def summary_table(records: Sequence[dict]) -> str:
    """Plain-text tables: per engine/language/split (utterances, minutes, voices, class shares in %), per
    engine/voice/split, and class shares per split."""
    short = {c: c[:3] for c in CLASSES}
    lines = []
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["split"], r["engine"], r["language"])].append(r)
    head = f"{'split':<17}{'engine':<9}{'lang':<5}{'utts':>6}{'min':>7}{'voices':>7} " + " ".join(
        f"{short[c]:>4}" for c in CLASSES)
    lines += ["Per engine / language / split (class shares in % of time)", head, "-" * len(head)]
    for key in sorted(groups, key=lambda k: (SPLITS.index(k[0]), k[1], k[2])):
        rs = groups[key]
        share = _class_share(rs)
        lines.append(f"{key[0]:<17}{key[1]:<9}{key[2]:<5}{len(rs):>6}{sum(r['duration'] for r in rs) / 60:>7.1f}"
                     f"{len({r['voice'] for r in rs}):>7} " + " ".join(f"{100 * share[c]:>4.0f}" for c in CLASSES))
    lines += ["", "Per engine / voice / split (espeak: per variant, all languages)",
              f"{'split':<17}{'engine':<9}{'voice':<26}{'utts':>6}{'min':>7}{'langs':>6}"]
    vg: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        voice = ("+" + _variant(r["voice"]) if _variant(r["voice"]) else "(default)") if r["engine"] == "espeak" \
            else r["voice"]
        vg[(r["split"], r["engine"], voice)].append(r)
    for key in sorted(vg, key=lambda k: (SPLITS.index(k[0]), k[1], k[2])):
        rs = vg[key]
        lines.append(f"{key[0]:<17}{key[1]:<9}{key[2]:<26}{len(rs):>6}{sum(r['duration'] for r in rs) / 60:>7.1f}"
                     f"{len({r['language'] for r in rs}):>6}")
    lines += ["", "Per split", f"{'split':<17}{'utts':>6}{'min':>8}{'langs':>6} " + " ".join(
        f"{short[c]:>4}" for c in CLASSES)]
    for split in SPLITS:
        rs = [r for r in records if r["split"] == split]
        if rs:
            share = _class_share(rs)
            lines.append(f"{split:<17}{len(rs):>6}{sum(r['duration'] for r in rs) / 60:>8.1f}"
                         f"{len({r['language'] for r in rs}):>6} " + " ".join(f"{100 * share[c]:>4.0f}" for c in CLASSES))
    return "\n".join(lines)


def _class_share(records: Sequence[dict]) -> dict[str, float]:
    acc: Counter = Counter()
    for r in records:
        for cls, s, e in r["classes"]:
            acc[cls] += e - s
    total = sum(acc.values()) or 1.0
    return {c: acc[c] / total for c in CLASSES}


# ============================================================================ CLI
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m visemo.train.tts_corpus OUT_DIR [--hours H] [--seed S] [--splits a,b] [--workers N]``."""
    ap = argparse.ArgumentParser(prog="python -m visemo.train.tts_corpus",
                                 description="Synthesize the speech → articulation-class training corpus "
                                             "(espeak-ng, festival, flite with exact phone timings).")
    ap.add_argument("out_dir", help="corpus folder (created; an existing one is completed, not redone)")
    ap.add_argument("--hours", type=float, default=4.0, help="training audio to plan, hours (default 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--splits", default=",".join(SPLITS), help=f"comma-separated, from {', '.join(SPLITS)}")
    ap.add_argument("--workers", type=int, default=2, help="synthesis processes (default 2)")
    ap.add_argument("--heldout-reserved", type=int, default=60, help="utterances of festival cs/ca/ru (default 60)")
    ap.add_argument("--heldout-language", type=int, default=100, help="utterances of held-out languages (default 100)")
    ap.add_argument("--heldout-voice", type=int, default=100, help="utterances of held-out voices (default 100)")
    ap.add_argument("--engines", default="espeak,festival,flite", help="comma-separated (default all three)")
    ap.add_argument("--languages", default=None,
                    help="comma-separated espeak training languages (default all; see ESPEAK_TRAIN_VOICES)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    splits = tuple(s.strip() for s in args.splits.split(",") if s.strip())
    bad = [s for s in splits if s not in SPLITS]
    if bad:
        ap.error(f"unknown split(s) {', '.join(bad)}; choose from {', '.join(SPLITS)}")
    missing = [name for name, ok in (("espeak-ng (libespeak-ng1)", have_espeak()), ("festival", have_festival()),
                                     ("flite", have_flite())) if not ok]
    if len(missing) == 3:
        print("error: no synthesizer installed: apt-get install espeak-ng festival flite", file=sys.stderr)
        return 2
    if missing and not args.quiet:
        print(f"warning: not installed, skipped: {', '.join(missing)}", file=sys.stderr)
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    if not set(engines) <= {"espeak", "festival", "flite"}:
        ap.error(f"unknown engine in {args.engines!r}; choose from espeak, festival, flite")
    languages = tuple(args.languages.split(",")) if args.languages else None
    if languages:
        unknown = [lang for lang in languages if lang not in ESPEAK_TRAIN_VOICES]
        if unknown:
            ap.error(f"not an espeak training language: {', '.join(unknown)}; "
                     f"choose from {', '.join(ESPEAK_TRAIN_VOICES)}")
    config = CorpusConfig(hours=args.hours, seed=args.seed, splits=splits, heldout_reserved=args.heldout_reserved,
                          heldout_language=args.heldout_language, heldout_voice=args.heldout_voice,
                          engines=engines, languages=languages)
    t0 = time.time()
    records = build(args.out_dir, config, workers=args.workers, progress=not args.quiet)
    rejected = (Path(args.out_dir) / "rejected.jsonl").read_text(encoding="utf-8").splitlines()
    table = summary_table(records)
    (Path(args.out_dir) / "summary.txt").write_text(table + "\n", encoding="utf-8")
    if not args.quiet:
        print(table)
        print(f"\n{len(records)} utterances, {sum(r['duration'] for r in records) / 3600:.2f} h, "
              f"{len(rejected)} rejected (rejected.jsonl), {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
