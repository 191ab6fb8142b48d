"""Syllable counts, word by word, against counts made by hand (Spanish by the Real Academia's rules).

Every word's expected count comes from how the word is spoken and syllabified in
a dictionary, never from the counter itself. A failure names every word the
counter gets wrong in that group, so a change to a rule shows all it breaks.
"""

from __future__ import annotations

import pytest

from handoutpress.checks.readability import count_text, rules_for
from handoutpress.checks.syllables import english_syllables, number_syllables, spanish_syllables

# fmt: off
SPANISH: dict[str, dict[str, int]] = {
    "diphthongs and triphthongs": {
        "agua": 2, "cuidado": 3, "siempre": 2, "ciudad": 2, "bueno": 2, "aire": 2, "causa": 2, "peine": 2,
        "tratamiento": 4, "ansiedad": 3, "suicidio": 3, "euforia": 3, "farmacia": 3, "medicamento": 5,
        "antidepresivo": 6, "psiquiatra": 3, "cuatro": 2, "aunque": 2, "euro": 2, "buey": 1, "estudiáis": 3,
        "fui": 1, "ruido": 2, "jesuita": 3, "construir": 2,
    },
    "u spoken or silent after q and g": {
        "quiere": 2, "seguir": 2, "guion": 1, "pingüino": 3, "vergüenza": 3, "averigüe": 4,
    },
    "hiatus with a written accent": {
        "día": 2, "país": 2, "río": 2, "baúl": 2, "oír": 2, "reúne": 3, "energía": 4, "policía": 4,
        "todavía": 4, "podría": 3, "aún": 2, "cafeína": 4, "heroína": 4, "guía": 2, "cirugía": 4, "tenía": 3,
        "sonríe": 3, "oído": 3, "océano": 4,
    },
    "hiatus without a written accent": {
        "idea": 3, "ideas": 3, "teatro": 3, "poeta": 3, "leer": 2, "creer": 2, "maestro": 3, "paseo": 3,
        "caos": 2, "área": 3, "línea": 3, "correo": 3, "náusea": 3, "chequeo": 3, "ketamina": 4,
        "esketamina": 5, "mareo": 3, "cráneo": 3,
    },
    "h between vowels": {
        "ahora": 3, "alcohol": 3, "ahí": 2, "búho": 2, "vehículo": 4, "zanahoria": 4, "cohete": 3,
        "prohíbe": 3, "rehén": 2, "prohibido": 3, "desahucio": 3, "deshidratación": 5, "inhalador": 4,
    },
    "y as a vowel and as a consonant": {
        "muy": 1, "hoy": 1, "hay": 1, "ley": 1, "estoy": 2, "y": 1, "virrey": 2, "uruguay": 3, "reyes": 2,
        "mayor": 2, "ayer": 2, "yo": 1, "leyes": 2, "ayuda": 3,
    },
    "ll, rr and ch": {
        "llamar": 2, "calle": 2, "perro": 2, "correr": 2, "noche": 2, "mucho": 2, "arriba": 3,
        "irritación": 4, "sencillo": 3, "chorro": 2, "ellos": 2, "ella": 2,
    },
    "prefixes": {
        "antiinflamatorio": 7, "antihipertensivo": 7, "reelegir": 4, "preocupar": 4, "reacción": 3,
        "deshacer": 3, "subrayar": 3, "subestimar": 4, "desinflamar": 4, "posoperatorio": 6,
        "autoestima": 5, "interacción": 4, "sobredosis": 4, "inútil": 3,
    },
    "a vowel at the start of the word": {
        "uno": 2, "atención": 3, "ayudar": 3, "antes": 2, "efecto": 3, "insomnio": 3, "opción": 2,
        "usted": 2, "él": 1, "a": 1, "o": 1, "e": 1, "u": 1, "orina": 3, "embarazo": 4, "alergia": 3,
        "estómago": 4, "aumento": 3, "oxígeno": 4, "hígado": 3, "huevo": 2, "hielo": 2, "ejemplo": 3,
    },
}

ENGLISH: dict[str, dict[str, int]] = {
    "medicines and their classes": {
        "antidepressant": 5, "antidepressants": 5, "esketamine": 4, "ketamine": 3, "opioid": 3,
        "opioids": 3, "medication": 4, "medications": 4, "prescription": 3, "serotonin": 4, "lithium": 3,
        "benzodiazepine": 6, "benzodiazepines": 6, "stimulant": 3, "amphetamine": 4, "naltrexone": 3,
        "buprenorphine": 4, "inhibitor": 4, "inhibitors": 4, "sedative": 3, "decongestant": 4, "steroid": 2,
        "corticosteroid": 5, "antihistamine": 5, "ibuprofen": 4, "acetaminophen": 6, "placebo": 3,
        "monoamine": 4, "neurotransmitter": 5, "glutamate": 3, "receptor": 3, "marijuana": 4, "cannabis": 3,
        "alcohol": 3, "oxygen": 3, "anticoagulant": 6, "anxiolytic": 5, "medicine": 3,
    },
    "conditions and effects": {
        "dissociation": 5, "dissociate": 4, "dissociated": 5, "diabetes": 4, "depression": 3, "anxiety": 4,
        "dizziness": 3, "sedation": 3, "symptoms": 2, "seizure": 2, "seizures": 2, "aneurysm": 4,
        "hallucination": 5, "hallucinations": 5, "tolerance": 3, "addiction": 3, "withdrawal": 3,
        "syndrome": 2, "hypertension": 4, "tachycardia": 5, "cardiovascular": 6, "cognitive": 3,
        "delirium": 4, "psychosis": 3, "schizophrenia": 5, "bipolar": 3, "mania": 3, "paranoia": 4,
        "suicidal": 4, "suicide": 3, "suicides": 3, "crisis": 2, "chronic": 2, "adverse": 2, "allergic": 3,
        "infection": 3, "urinary": 4, "headache": 2, "fatigue": 2, "drowsiness": 3, "sleepiness": 3,
        "insomnia": 4, "euphoria": 4, "vomiting": 3, "trauma": 2, "remission": 3, "relapse": 2,
        "pregnancy": 3, "pregnant": 2,
    },
    "care and the people who give it": {
        "physician": 3, "clinician": 3, "clinic": 2, "clinical": 3, "patient": 2, "psychiatrist": 4,
        "pharmacist": 3, "pharmacy": 3, "hospital": 3, "emergency": 4, "ambulance": 3, "caregiver": 3,
        "therapy": 3, "psychotherapy": 5, "evaluation": 5, "diagnosis": 4, "treatment": 2, "dosage": 2,
        "milligram": 3, "intravenous": 4, "infusion": 3, "intranasal": 4, "nasal": 2, "overdose": 3,
        "prescribe": 2, "appointment": 3, "insurance": 3, "monitor": 3, "maintenance": 3, "initiation": 5,
        "contraindicated": 6, "breastfeeding": 3, "disorder": 3,
    },
    "everyday words the corrections must not break": {
        "any": 2, "area": 3, "being": 2, "ideas": 3, "people": 2, "takes": 1, "uses": 2, "likely": 2,
        "changes": 2, "wanted": 2, "serious": 3, "muscles": 2, "stimulation": 4, "every": 2, "doctor": 2,
        "blood": 1, "heart": 1, "spray": 1, "dose": 1, "doses": 2, "safety": 2, "pressure": 2, "effects": 2,
        "the": 1, "make": 1, "colleague": 2, "familiar": 3, "everybody": 4,
    },
}
# fmt: on


def _miscounted(count, words: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Each word the counter gets wrong: (its count, the right count)."""
    return {word: (count(word), right) for word, right in words.items() if count(word) != right}


def test_the_word_lists_are_long_enough_to_mean_something():
    """At least 60 words per language, every group of the issue present."""
    assert sum(map(len, SPANISH.values())) >= 60
    assert sum(map(len, ENGLISH.values())) >= 60


@pytest.mark.parametrize("group", SPANISH)
def test_spanish_syllables_follow_the_academy_rules(group):
    """Spanish words of each kind are counted as the Real Academia syllabifies them."""
    assert _miscounted(spanish_syllables, SPANISH[group]) == {}


@pytest.mark.parametrize("group", ENGLISH)
def test_english_syllables_match_the_dictionary(group):
    """English medical and everyday words are counted as a dictionary syllabifies them."""
    assert _miscounted(english_syllables, ENGLISH[group]) == {}


def test_spanish_counts_ignore_case_punctuation_and_hyphens():
    """Capitals, quotes and a hyphen change no count; an acronym with no vowel is one syllable."""
    assert [spanish_syllables(w) for w in ("Día", "ÚNICA", "«agua»", "franco-alemán", "TMS", "")] == [2, 3, 2, 5, 1, 0]


def test_the_languages_use_these_counters_and_numbers_count_once():
    """The reading rules count with these functions; a number is one word of one syllable in either language."""
    assert rules_for("es").syllables is spanish_syllables
    assert rules_for("en").syllables is english_syllables
    assert (number_syllables("988"), number_syllables("agua")) == (1, None)
    counts = count_text(["Llame al 988 ahora."], rules_for("es"))
    assert (counts.words, counts.syllables, counts.polysyllables) == (4, 2 + 1 + 1 + 3, 1)
