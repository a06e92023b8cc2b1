"""Invented names for the demo city: people and streets.

The lists contain common Indonesian and Minangkabau-looking given names,
second names and suku (matrilineal clan) names, combined at random. Most
Minangkabau people have no inherited family name, so family members get
independent names. Some men's names end in their suku, as some families write
them. Given names follow the fashion of the person's birth decade. The lists
leave out the names of well-known people (see FAMOUS_NAME_PARTS, which a test
checks against).
"""

import random

# Given names by the era they were common in: born before 1970, 1970-1994, 1995 on.
MALE_GIVEN = (
    (
        "Bustami", "Jasman", "Amran", "Nasrul", "Darwis", "Syamsul", "Asril",
        "Marzuki", "Zainuddin", "Rusli", "Yunus", "Bahar", "Kamaruddin", "Syafei",
        "Jamaris", "Djamal", "Anas", "Nazar", "Idris", "Zulkarnain", "Mukhtar",
        "Rasyidin", "Syahril", "Burhan",
    ),
    (
        "Afrizal", "Syafrizal", "Hendri", "Yusrizal", "Erizal", "Dedi", "Andri",
        "Roni", "Rudi", "Yondri", "Novendri", "Defrizal", "Zulfahmi", "Masrul",
        "Nofrizal", "Wendi", "Yuhendri", "Darmawan", "Yunaldi", "Khairul",
        "Yulizar", "Firdaus", "Irwan", "Rahmat", "Zulkifli", "Syahrul", "Afdal",
        "Ardi", "Taufik", "Ismail", "Jufri", "Heri", "Edwar", "Fadri",
    ),
    (
        "Fauzan", "Rizki", "Fadli", "Ilham", "Alfin", "Habib", "Hafiz", "Aldi",
        "Reza", "Dafa", "Farhan", "Ridho", "Zaki", "Naufal", "Azka", "Rafi",
        "Gilang", "Fathan", "Arkan", "Raffa", "Fikri", "Hanif", "Rasyid", "Yasir",
        "Alif", "Daffa", "Rayhan", "Akmal", "Faiz", "Ikhsan",
    ),
)  # fmt: skip
FEMALE_GIVEN = (
    (
        "Nurhayati", "Asnimar", "Rosmaniar", "Syamsidar", "Nurjanah", "Yusniar",
        "Zubaidah", "Mardiah", "Rosna", "Jusna", "Nurlela", "Erniwati", "Darnis",
        "Asmah", "Rosnidar", "Nurbaiti", "Yusmanidar", "Kasmiati", "Rabiah",
        "Syamsiar", "Hasnah", "Maryam", "Salmah",
    ),
    (
        "Yusnita", "Desi", "Rini", "Fitri", "Elfi", "Yeni", "Erni", "Yulia", "Vivi",
        "Lisa", "Sri", "Rahmi", "Novita", "Mira", "Fitria", "Nelvi", "Yusmaneli",
        "Delfi", "Ratna", "Zulfa", "Lastri", "Marlini", "Efrida", "Yenti", "Suryani",
        "Irma", "Nova", "Dewi", "Yulfitri", "Rosa",
    ),
    (
        "Aisyah", "Nabila", "Salsabila", "Zahra", "Alya", "Keisya", "Nayla", "Syifa",
        "Khalisa", "Annisa", "Putri", "Aqila", "Hafizah", "Adinda", "Rahma",
        "Nadia", "Intan", "Tiara", "Zaskia", "Hanifa", "Kayla", "Azizah", "Sabrina",
        "Fadhila", "Raisa", "Naura",
    ),
)  # fmt: skip
MALE_SECOND = (
    "Putra", "Saputra", "Syahputra", "Hidayat", "Efendi", "Pratama", "Kurniawan",
    "Hakim", "Rahman", "Fauzi", "Ramadhan", "Akbar", "Maulana", "Hamdani", "Yusuf",
    "Amri", "Firmansyah", "Gunawan", "Anwar", "Hasan", "Fernando", "Wijaya",
    "Rinaldi", "Saputro", "Arfiandi", "Zulhendri",
)  # fmt: skip
FEMALE_SECOND = (
    "Sari", "Wati", "Yanti", "Putri", "Dewi", "Rahmawati", "Handayani",
    "Oktaviani", "Fitriani", "Ramadhani", "Susanti", "Marlina", "Yulianti",
    "Novianti", "Hayati", "Zahara", "Maharani", "Safitri", "Anggraini",
    "Lestari", "Wahyuni", "Afriani", "Melati", "Permata",
)  # fmt: skip
SUKU = (
    "Chaniago", "Piliang", "Koto", "Sikumbang", "Tanjung", "Jambak", "Guci",
    "Sipisang", "Bendang", "Panyalai", "Pitopang", "Melayu", "Mandailiang",
)  # fmt: skip
# Parts that would make an invented name read as a well-known Minangkabau or
# Indonesian figure. None is in the lists above; a test keeps it that way.
FAMOUS_NAME_PARTS = frozenset(
    {
        "Hatta", "Hamka", "Malaka", "Sjahrir", "Syahrir", "Salim", "Natsir",
        "Yamin", "Chairil", "Nurhaliza", "Rasuna", "Soekarno", "Sukarno",
        "Habibie", "Jokowi", "Prabowo",
    }
)  # fmt: skip

STREET_WORDS = (
    "Anggrek", "Melati", "Mawar", "Kenanga", "Cempaka", "Flamboyan", "Dahlia",
    "Teratai", "Kamboja", "Seroja", "Bougenvil", "Kemuning", "Durian", "Manggis",
    "Kelapa", "Pinang", "Cengkeh", "Kopi", "Kayu Manis", "Jeruk", "Alpukat",
    "Masjid", "Surau", "Pasar", "Sekolah", "Lapangan", "Pemuda", "Perintis",
    "Bukit Indah", "Lereng", "Lembah Hijau", "Simpang Tigo", "Sawah Laweh",
    "Banda Gadang", "Batang Aia", "Talago", "Koto Baru", "Parak Lamo",
    "Padang Data", "Ladang Tabu", "Tabek", "Rimbo", "Lurah", "Pincuran",
    "Ambun Pagi", "Kampuang Tangah", "Guguak", "Balai Baru", "Titian",
    "Harapan", "Mufakat", "Sepakat", "Kenari", "Nangka", "Rambutan", "Pisang",
)  # fmt: skip
ROMAN = ("", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X")


def _era(birth_year: int) -> int:
    if birth_year < 1970:
        return 0
    return 1 if birth_year < 1995 else 2


def person_name(rng: random.Random, sex: str, birth_year: int) -> str:
    """Return an invented full name for a person of this sex and birth year."""
    female = sex == "F"
    era = _era(birth_year)
    parts = [rng.choice((FEMALE_GIVEN if female else MALE_GIVEN)[era])]
    if rng.random() < 0.08:
        parts.insert(0, "Siti" if female else "Muhammad")
    # Older people more often have a single name.
    single_name_share = 0.45 if era == 0 else 0.15
    if rng.random() >= single_name_share:
        parts.append(rng.choice(FEMALE_SECOND if female else MALE_SECOND))
    if not female and rng.random() < 0.12:
        parts.append(rng.choice(SUKU))
    return " ".join(parts)


def street_names(rng: random.Random, count: int) -> list[str]:
    """Return `count` distinct invented street names, plain "Jl." names first."""
    plain = [f"Jl. {word}" for word in STREET_WORDS]
    rest = [
        f"{kind} {word}{roman}"
        for roman in ROMAN
        for word in STREET_WORDS
        for kind in ("Jl.", "Gg.")
        if f"{kind} {word}{roman}" not in plain
    ]
    if count > len(plain) + len(rest):
        raise ValueError(f"at most {len(plain) + len(rest)} street names, not {count}")
    rng.shuffle(plain)
    rng.shuffle(rest)
    return (plain + rest)[:count]
