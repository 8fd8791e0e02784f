//! `places`: generates `schema/places.toml`, the cities, first-level subdivisions and US
//! states that point at a country.
//!
//! Candidates are the GeoNames cities of at least [`MIN_POPULATION`] people, the ISO 3166-2
//! entries without a parent (first-level subdivisions), the US states and the extra places
//! of `xtask/curated-places.toml`. A reader must recognise a name as that one place, so
//! precision comes before recall. A name is dropped when it
//!
//! - is shorter than [`MIN_CHARS`] characters;
//! - is already a surface form of another schema file (a country, capital, demonym,
//!   metonym, region, person, organization, topic phrase or stoplist phrase);
//! - names a US state while the place is elsewhere;
//! - is on the curated stop list (first names, surnames, misleading words);
//! - is a lowercase word of the system word list, unless the city has [`BIG_CITY`] people;
//! - is made only of generic words ("Central", "North-West") or holds a local-language
//!   administrative word ("oblast", "kraj"): such a subdivision needs an English name;
//! - also names a city of another country, unless this city has [`DOMINANCE`] times the
//!   people of the largest of them (Paris, France stays; Hyderabad goes);
//! - also names a first-level subdivision of another country.
//!
//! A place whose display name is dropped is left out; its other spellings are dropped one
//! by one. Names are compared accent-folded, case-insensitively and with "St."/"Saint"
//! made one. Everything listed in the curated file is kept as written, but may not clash
//! with another schema file or another curated place. Each surface form names one place:
//! a later place of the same country loses the form (the larger city, or the city before
//! the subdivision, keeps it).

use crate::{Res, fold, read, read_json, variants, write};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

/// Cities with at least this many people are candidates.
pub const MIN_POPULATION: u64 = 100_000;
/// A city keeps a name that another country's city has only when it is this many times
/// larger than the largest of them.
const DOMINANCE: u64 = 10;
/// A city this large keeps a name that is also a dictionary word.
const BIG_CITY: u64 = 1_000_000;
/// Shorter names are dropped.
const MIN_CHARS: usize = 4;

const CURATED: &str = "xtask/curated-places.toml";
const OUTPUT: &str = "schema/places.toml";
const WORD_LIST: &str = "/usr/share/dict/words";
/// The other dictionaries: a place may not reuse any of their surface forms.
const SCHEMA: [&str; 6] = [
    "schema/countries.toml",
    "schema/regions.toml",
    "schema/people.toml",
    "schema/organizations.toml",
    "schema/topics.toml",
    "schema/stoplist.toml",
];

// ---------- inputs ----------

#[derive(Deserialize)]
struct City {
    geonameid: u64,
    name: String,
    country: String,
    population: u64,
}

#[derive(Deserialize)]
struct Iso3166Part2 {
    #[serde(rename = "3166-2")]
    subdivisions: Vec<IsoSubdivision>,
}

#[derive(Deserialize)]
struct IsoSubdivision {
    code: String,
    name: String,
    parent: Option<String>,
}

#[derive(Deserialize)]
struct UsState {
    code: String,
    name: String,
}

/// The surface forms of the other schema files, read as the extractor reads them.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SchemaFile {
    country: Vec<SchemaEntity>,
    region: Vec<SchemaEntity>,
    person: Vec<SchemaEntity>,
    organization: Vec<SchemaEntity>,
    topic: Vec<SchemaTopic>,
    phrases: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SchemaEntity {
    key: String,
    iso2: String,
    /// A person's display name is a surface form too; other entities repeat it in `names`.
    name: String,
    names: Vec<String>,
    demonyms: Vec<String>,
    capitals: Vec<String>,
    metonyms: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SchemaTopic {
    key: String,
    phrases: Vec<SchemaPhrase>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SchemaPhrase {
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Curated {
    /// Stop list: names that never name a place.
    drop: Vec<String>,
    /// Lowercase words: a name made only of these is no place ("Central", "North-West").
    generic: Vec<String>,
    /// Lowercase local-language administrative words ("oblast"): a name holding one is
    /// dropped, and the subdivision needs an English name here.
    local_admin: Vec<String>,
    /// Endings cut off ISO 3166-2 names ("Anhui Sheng" -> "Anhui"), tried in turn.
    suffixes: Vec<String>,
    /// ISO 3166-2 codes left out (country entries of their own, disputed territory).
    skip: Vec<String>,
    us_states: UsCuration,
    /// Per ISO 3166-2 code: kept, with an English name and extra spellings.
    #[serde(default)]
    subdivision: BTreeMap<String, CuratedSubdivision>,
    /// GeoNames cities kept whatever their population or the rules say.
    #[serde(default)]
    city: Vec<CuratedCity>,
    /// Areas that are not ISO 3166-2 subdivisions (Donbas, Siberia), written out as
    /// subdivisions.
    #[serde(default)]
    place: Vec<CuratedPlace>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsCuration {
    /// State code -> why the state is not listed.
    leave_out: BTreeMap<String, String>,
    /// State code -> AP-style abbreviations.
    abbreviations: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct CuratedSubdivision {
    name: Option<String>,
    names: Vec<String>,
    /// Dateline abbreviations (`Que.`, `B.C.`).
    abbreviations: Vec<String>,
    /// ISO 3166-1 alpha-2 code of the country, when not the one in the ISO code.
    country: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CuratedCity {
    /// The GeoNames name; the largest city of that name in `country` is meant.
    geonames: String,
    country: String,
    name: Option<String>,
    #[serde(default)]
    names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CuratedPlace {
    name: String,
    country: String,
    #[serde(default)]
    names: Vec<String>,
}

// ---------- output ----------

#[derive(Serialize, Debug)]
struct Place {
    name: String,
    country: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    population: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    names: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    abbreviations: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dateline_only: bool,
}

#[derive(Serialize)]
struct PlacesFile<'a> {
    place: &'a [Place],
}

const CITY: &str = "city";
const SUBDIVISION: &str = "subdivision";
const US_STATE: &str = "us-state";

// ---------- main ----------

pub fn run(shared: &str, verbose: bool) -> Res<()> {
    let reference = format!("{shared}/reference");
    let cities: Vec<City> = read(&format!("{reference}/geonames/cities15000.jsonl"))?
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("cities15000.jsonl: {e}")))
        .collect::<Res<_>>()?;
    let iso: Iso3166Part2 = read_json(&format!("{reference}/iso-codes/iso_3166-2.json"))?;
    let states: BTreeMap<String, UsState> =
        read_json(&format!("{reference}/geonames/us_states.json"))?;
    let curated: Curated =
        toml::from_str(&read(CURATED)?).map_err(|e| format!("{CURATED}: {e}"))?;
    let (schema, country_keys) = schema_forms()?;
    let words = match std::fs::read_to_string(WORD_LIST) {
        Ok(text) => Some(lowercase_words(&text)),
        Err(e) => {
            eprintln!("warning: {WORD_LIST}: {e}; common words are NOT filtered out");
            eprintln!("warning: install a word list (Debian: apt-get install wamerican)");
            None
        }
    };

    let n_words = words.as_ref().map(HashSet::len);
    let subdivisions: Vec<&IsoSubdivision> = iso
        .subdivisions
        .iter()
        .filter(|s| s.parent.is_none())
        .collect();
    let rules = Rules {
        schema,
        states: states.values().map(|s| key(&s.name)).collect(),
        stop: curated.drop.iter().map(|s| key(s)).collect(),
        words: words.unwrap_or_default(),
        generic: curated.generic.iter().cloned().collect(),
        local_admin: curated.local_admin.iter().cloned().collect(),
        cities: city_index(&cities, &curated),
        subdivisions: subdivision_index(&subdivisions, &curated),
    };
    let mut b = Builder {
        rules,
        country_keys,
        verbose,
        places: Vec::new(),
        claims: HashMap::new(),
        dropped: BTreeMap::new(),
    };
    b.add_states(&states, &curated.us_states)?;
    for p in &curated.place {
        let forms = spellings(std::iter::once(&p.name).chain(&p.names));
        b.add(Candidate::new(
            &p.country,
            SUBDIVISION,
            None,
            forms.clone(),
            forms,
        ))?;
    }
    let (curated_subdivisions, subdivisions) = b.subdivision_candidates(&subdivisions, &curated)?;
    let (curated_cities, cities) = city_candidates(&cities, &curated)?;
    // Curated places first, so that their names are theirs; then cities, largest first,
    // so that a city keeps the name of a subdivision of the same country.
    for c in [curated_subdivisions, curated_cities, cities, subdivisions]
        .into_iter()
        .flatten()
    {
        b.add(c)?;
    }
    b.report();

    let mut places: Vec<Place> = b.places.into_iter().map(|(_, p)| p).collect();
    places.extend(dateline_only_states(&states, &curated.us_states));
    places.sort_by_cached_key(|p| (p.country.clone(), key(&p.name), p.name.clone()));
    let header = header(&curated.us_states, &states, n_words);
    write(OUTPUT, &header, &PlacesFile { place: &places })?;
    let forms: usize = places
        .iter()
        .map(|p| 1 + p.names.len() + p.abbreviations.len())
        .sum();
    println!("wrote {} places with {forms} surface forms", places.len());
    Ok(())
}

/// The states left out whose dateline abbreviations are still read (`ATLANTA, Ga.`): their
/// names mean something else in running text, so they are listed for datelines only.
fn dateline_only_states(states: &BTreeMap<String, UsState>, us: &UsCuration) -> Vec<Place> {
    us.leave_out
        .keys()
        .filter_map(|code| Some((states.get(code)?, us.abbreviations.get(code)?)))
        .map(|(state, abbreviations)| Place {
            name: state.name.clone(),
            country: "UnitedStates".to_owned(),
            kind: US_STATE,
            population: None,
            names: Vec::new(),
            abbreviations: abbreviations.clone(),
            dateline_only: true,
        })
        .collect()
}

fn header(us: &UsCuration, states: &BTreeMap<String, UsState>, words: Option<usize>) -> String {
    let mut h = String::from(
        "\
# GENERATED FILE - do not edit by hand.
# Generated by `cargo run --manifest-path xtask/Cargo.toml -- places` (run from the
# repository root; `--shared DIR` points at the shared reference data, default ../shared)
# from reference/geonames/cities15000.jsonl, reference/geonames/us_states.json,
# reference/iso-codes/iso_3166-2.json, the other schema/*.toml files and the hand-curated
# xtask/curated-places.toml. Edit the curated file and regenerate.
",
    );
    match words {
        Some(n) => writeln!(
            h,
            "# Common words were looked up in {WORD_LIST} ({n} lowercase words)."
        ),
        None => writeln!(
            h,
            "# Common words were NOT filtered out: {WORD_LIST} was missing."
        ),
    }
    .expect("writing to a String");
    h.push_str(
        "\
#
# Cities and US states come from GeoNames (https://www.geonames.org/), licensed under
# CC BY 4.0: \"GeoNames, geonames.org\". Subdivisions come from Debian iso-codes
# (ISO 3166-2), LGPL-2.1+.
#
# kind: city (population from GeoNames), subdivision (a first-level ISO 3166-2 subdivision
# or a curated area such as Donbas) or us-state. country is the key in countries.toml.
# abbreviations are read only in datelines (ROCHESTER, N.Y.). A dateline_only place is
# not looked for in running text, only its abbreviations in datelines.
# US states left out of running text on purpose:
",
    );
    for (code, why) in &us.leave_out {
        let name = states.get(code).map_or(code.as_str(), |s| s.name.as_str());
        writeln!(h, "#   {name}: {why}").expect("writing to a String");
    }
    h.push_str("# See schema/README.md (\"Places\") for how places are chosen.\n");
    h
}

// ---------- names ----------

/// The comparison key of a surface form: accent-folded, lowercase, "St."/"St " read as
/// "Saint ".
fn key(form: &str) -> String {
    let k = fold(form).to_lowercase();
    for prefix in ["st. ", "st "] {
        if let Some(rest) = k.strip_prefix(prefix) {
            return format!("saint {rest}");
        }
    }
    k
}

/// Curly apostrophes made straight, as the schema writes them.
fn straighten(s: &str) -> String {
    s.replace(['‘', '’', 'ʻ', 'ʼ'], "'")
}

/// Each name with its accent-folded and "Saint"/"St." spellings, in order, once each.
fn spellings<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in names
        .into_iter()
        .flat_map(|n| variants(&straighten(n.as_ref()), true))
    {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The names an ISO 3166-2 entry gives a subdivision, cleaned up: footnote marks and
/// bracketed codes dropped, "Catalunya [Cataluña]" read as two names, "Asturias,
/// Principado de" as "Asturias", "Ilocos (Region I)" as "Ilocos", and `suffixes` cut off
/// ("Anhui Sheng" -> "Anhui"). Names that do not start with a capital ("wallonne,
/// Région") or that join two names with a slash are left out.
fn iso_names(raw: &str, suffixes: &[String]) -> Vec<String> {
    let raw = straighten(raw);
    let raw = raw.trim().trim_end_matches(['*', '†']).trim_end();
    let (main, bracket) = match raw.split_once('[') {
        Some((main, rest)) => (main, rest.split(']').next().unwrap_or_default()),
        None => (raw, ""),
    };
    let is_code = |w: &&str| {
        *w == "city"
            || (w.contains('-')
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'))
    };
    let alternative: Vec<&str> = bracket.split_whitespace().filter(|w| !is_code(w)).collect();
    let mut out: Vec<String> = Vec::new();
    for part in [main.to_string(), alternative.join(" ")] {
        let mut part = part.split(['(', ',']).next().unwrap_or_default().trim();
        while let Some(cut) = suffixes.iter().find_map(|s| part.strip_suffix(s.as_str())) {
            part = cut.trim_end();
        }
        let part = part.trim_matches('\'');
        let capital = part.starts_with(|c: char| c.is_uppercase());
        if capital && !part.contains('/') && !out.iter().any(|o| o == part) {
            out.push(part.to_string());
        }
    }
    out
}

/// The names in a GeoNames city name: "Donostia / San Sebastián" holds two.
fn city_names(name: &str) -> Vec<&str> {
    name.split(" / ").map(str::trim).collect()
}

/// The words of a name, lowercase, split at spaces and hyphens.
fn name_words(form: &str) -> impl Iterator<Item = String> + '_ {
    form.split([' ', '-'])
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The all-lowercase entries of a word list (capitalised ones are names, not words).
fn lowercase_words(text: &str) -> HashSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|w| !w.is_empty() && !w.chars().any(char::is_uppercase))
        .map(String::from)
        .collect()
}

// ---------- rules ----------

/// Why a name is not used.
#[derive(Debug, Clone, PartialEq)]
enum Why {
    Short,
    Schema(String),
    UsState,
    Stop,
    Word,
    Generic,
    LocalAdmin,
    /// Another country has a city of this name, with this many people.
    City(String, u64),
    /// Another country has a first-level subdivision of this name.
    Subdivision(String),
    /// A curated place of another country has the name.
    Taken(String),
    /// A place of the same country already has the name (a larger city, or the city of
    /// the same name as a subdivision).
    Merged,
    /// No usable name: a digit ("Lyon 03", "Province 1"), or an ISO name that does not
    /// start with a capital or joins two with a slash ("wallonne, Région", "//Karas").
    Unusable,
}

impl Why {
    fn label(&self) -> &'static str {
        match self {
            Why::Short => "shorter than 4 characters",
            Why::Schema(_) => "already in another schema file (country, capital, person...)",
            Why::UsState => "the name of a US state",
            Why::Stop => "on the curated stop list",
            Why::Word => "a common word (word list)",
            Why::Generic => "only generic words (Central, North-West)",
            Why::LocalAdmin => "a local administrative term (oblast, kraj) without English name",
            Why::City(..) => "also a city of another country (10x rule)",
            Why::Subdivision(_) => "also a subdivision of another country",
            Why::Taken(_) => "taken by a curated place of another country",
            Why::Merged => "a place of the same country has the name",
            Why::Unusable => "no usable name (digits, lowercase, slashes)",
        }
    }

    fn detail(&self) -> String {
        match self {
            Why::Schema(owner) => format!("already {owner}"),
            Why::City(country, population) => {
                format!("also a city of {population} people in {country}")
            }
            Why::Subdivision(country) => format!("also a subdivision of {country}"),
            Why::Taken(country) => format!("taken by a curated place in {country}"),
            other => other.label().to_string(),
        }
    }
}

struct Rules {
    /// Surface form key -> the entity of another schema file that has it.
    schema: HashMap<String, String>,
    /// Keys of every US state's name.
    states: HashSet<String>,
    stop: HashSet<String>,
    words: HashSet<String>,
    generic: HashSet<String>,
    local_admin: HashSet<String>,
    /// Name key -> (country, population) of every GeoNames city of that name.
    cities: HashMap<String, Vec<(String, u64)>>,
    /// Name key -> countries with a first-level subdivision of that name.
    subdivisions: HashMap<String, BTreeSet<String>>,
}

impl Rules {
    /// Whether `form` may name a place in `country` (ISO alpha-2); `population` is a
    /// city's, `None` for a subdivision.
    fn check(&self, form: &str, country: &str, population: Option<u64>) -> Result<(), Why> {
        let k = key(form);
        if form.chars().count() < MIN_CHARS {
            return Err(Why::Short);
        }
        if form.contains(|c: char| c.is_ascii_digit()) {
            return Err(Why::Unusable);
        }
        if let Some(owner) = self.schema.get(&k) {
            return Err(Why::Schema(owner.clone()));
        }
        if country != "US" && self.states.contains(&k) {
            return Err(Why::UsState);
        }
        if self.stop.contains(&k) {
            return Err(Why::Stop);
        }
        if self.words.contains(&k) && population.is_none_or(|p| p < BIG_CITY) {
            return Err(Why::Word);
        }
        if name_words(form).all(|w| self.generic.contains(&fold(&w))) {
            return Err(Why::Generic);
        }
        if name_words(form).any(|w| self.local_admin.contains(&w)) {
            return Err(Why::LocalAdmin);
        }
        let others = self.cities.get(&k).into_iter().flatten();
        let largest = others.filter(|(c, _)| c != country).max_by_key(|(_, p)| *p);
        if let Some((other, other_population)) = largest
            && population.is_none_or(|p| p < DOMINANCE * other_population)
        {
            return Err(Why::City(other.clone(), *other_population));
        }
        let subdivisions = self.subdivisions.get(&k).into_iter().flatten();
        if let Some(other) = subdivisions.into_iter().find(|c| *c != country) {
            return Err(Why::Subdivision(other.clone()));
        }
        Ok(())
    }
}

/// Every GeoNames city under each of its name keys, and the curated names of the curated
/// ones: "Odessa" is Odesa's, so Odessa, Texas meets it.
fn city_index(cities: &[City], curated: &Curated) -> HashMap<String, Vec<(String, u64)>> {
    let mut index: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    for c in cities {
        index
            .entry(key(&c.name))
            .or_default()
            .push((c.country.clone(), c.population));
    }
    for cur in &curated.city {
        let found = cities
            .iter()
            .find(|c| c.name == cur.geonames && c.country == cur.country);
        let population = found.map_or(0, |c| c.population);
        for name in cur.name.iter().chain(&cur.names) {
            index
                .entry(key(name))
                .or_default()
                .push((cur.country.clone(), population));
        }
    }
    index
}

/// Every first-level subdivision under each of its (cleaned) name keys, with the curated
/// names and areas.
fn subdivision_index(
    subdivisions: &[&IsoSubdivision],
    curated: &Curated,
) -> HashMap<String, BTreeSet<String>> {
    let mut index: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut add = |name: &str, country: &str| {
        index
            .entry(key(name))
            .or_default()
            .insert(country.to_string());
    };
    for s in subdivisions {
        let cur = curated.subdivision.get(&s.code);
        let country = cur
            .and_then(|c| c.country.as_deref())
            .unwrap_or(&s.code[..2]);
        for name in iso_names(&s.name, &curated.suffixes) {
            add(&name, country);
        }
        for name in cur.into_iter().flat_map(|c| c.name.iter().chain(&c.names)) {
            add(name, country);
        }
    }
    for p in &curated.place {
        for name in std::iter::once(&p.name).chain(&p.names) {
            add(name, &p.country);
        }
    }
    index
}

/// The surface forms of the other schema files (key -> owner) and the country keys by
/// ISO 3166-1 alpha-2 code.
fn schema_forms() -> Res<(HashMap<String, String>, HashMap<String, String>)> {
    let mut forms = HashMap::new();
    let mut country_keys = HashMap::new();
    for path in SCHEMA {
        let file: SchemaFile = toml::from_str(&read(path)?).map_err(|e| format!("{path}: {e}"))?;
        let mut add = |form: &str, owner: String| {
            forms
                .entry(key(form.trim_end_matches('*')))
                .or_insert(owner);
        };
        for c in &file.country {
            country_keys.insert(c.iso2.clone(), c.key.clone());
            let all = c.names.iter().chain(&c.demonyms).chain(&c.capitals);
            for s in all.chain(&c.metonyms) {
                add(s, format!("a form of the country {}", c.key));
            }
        }
        for (kind, list) in [
            ("region", &file.region),
            ("organization", &file.organization),
        ] {
            for e in list {
                for s in &e.names {
                    add(s, format!("the {kind} {}", e.key));
                }
            }
        }
        for p in &file.person {
            for s in std::iter::once(&p.name).chain(&p.names) {
                add(s, format!("the person {}", p.key));
            }
        }
        for t in &file.topic {
            for p in &t.phrases {
                add(&p.text, format!("a phrase of the topic {}", t.key));
            }
        }
        for s in &file.phrases {
            add(s, "a stoplist phrase".to_string());
        }
    }
    Ok((forms, country_keys))
}

// ---------- building ----------

/// A place before its names are checked: the display name first.
struct Candidate {
    iso2: String,
    kind: &'static str,
    population: Option<u64>,
    forms: Vec<String>,
    /// Forms written in the curated file: exempt from the rules.
    exempt: Vec<String>,
    abbreviations: Vec<String>,
    /// What to call it in messages.
    label: String,
}

impl Candidate {
    fn new(
        iso2: &str,
        kind: &'static str,
        population: Option<u64>,
        forms: Vec<String>,
        exempt: Vec<String>,
    ) -> Candidate {
        Candidate {
            label: format!("{} ({iso2})", forms.first().map_or("", |f| f.as_str())),
            iso2: iso2.to_string(),
            kind,
            population,
            forms,
            exempt,
            abbreviations: Vec::new(),
        }
    }
}

struct Builder {
    rules: Rules,
    country_keys: HashMap<String, String>,
    verbose: bool,
    /// The places kept so far, with their ISO alpha-2 country.
    places: Vec<(String, Place)>,
    /// Surface form key -> index into `places`.
    claims: HashMap<String, usize>,
    /// (kind, reason) -> the places dropped for it, largest city first.
    dropped: BTreeMap<(&'static str, &'static str), Vec<String>>,
}

impl Builder {
    /// Adds a candidate whose display name passes, with those of its other forms that
    /// pass. Curated (exempt) forms must not clash with another schema file or place.
    fn add(&mut self, c: Candidate) -> Res<bool> {
        let country = self
            .country_keys
            .get(&c.iso2)
            .ok_or(format!("{}: no country with ISO code {}", c.label, c.iso2))?
            .clone();
        let mut kept: Vec<String> = Vec::new();
        for (i, form) in c.forms.iter().chain(&c.abbreviations).enumerate() {
            let exempt = c.exempt.contains(form) || i >= c.forms.len();
            let k = key(form);
            let owner = self.claims.get(&k).map(|&p| &self.places[p].0);
            let why = if exempt {
                if let Some(owner) = self.rules.schema.get(&k) {
                    return Err(format!("{}: curated {form:?} is already {owner}", c.label));
                }
                if let Some(other) = owner {
                    return Err(format!(
                        "{}: curated {form:?} is also a place in {other}",
                        c.label
                    ));
                }
                None
            } else {
                let why = self.rules.check(form, &c.iso2, c.population).err();
                why.or_else(|| match owner {
                    Some(o) if *o == c.iso2 => Some(Why::Merged),
                    Some(o) => Some(Why::Taken(o.clone())),
                    None => None,
                })
            };
            match why {
                Some(why) if i == 0 => {
                    self.drop(&c, why);
                    return Ok(false);
                }
                Some(why) => {
                    if self.verbose {
                        eprintln!("  name {form:?} of {} dropped: {}", c.label, why.detail());
                    }
                }
                None => kept.push(form.clone()),
            }
        }
        let index = self.places.len();
        for form in &kept {
            self.claims.insert(key(form), index);
        }
        let abbreviations: Vec<String> = kept
            .iter()
            .filter(|f| c.abbreviations.contains(f))
            .cloned()
            .collect();
        kept.retain(|f| !abbreviations.contains(f));
        let place = Place {
            name: kept.remove(0),
            country,
            kind: c.kind,
            population: c.population,
            names: kept,
            abbreviations,
            dateline_only: false,
        };
        self.places.push((c.iso2, place));
        Ok(true)
    }

    fn drop(&mut self, c: &Candidate, why: Why) {
        let what = match c.population {
            Some(p) => format!("{} {p}", c.label),
            None => c.label.clone(),
        };
        if self.verbose {
            eprintln!("  {} {what} dropped: {}", c.kind, why.detail());
        }
        let entry = self.dropped.entry((c.kind, why.label())).or_default();
        entry.push(format!("{what}: {}", why.detail()));
    }

    fn add_states(&mut self, states: &BTreeMap<String, UsState>, us: &UsCuration) -> Res<()> {
        for code in us.leave_out.keys().chain(us.abbreviations.keys()) {
            if !states.contains_key(code) {
                return Err(format!("{CURATED}: {code} is not a US state"));
            }
        }
        for s in states
            .values()
            .filter(|s| !us.leave_out.contains_key(&s.code))
        {
            let forms = spellings([&s.name]);
            let mut c = Candidate::new("US", US_STATE, None, forms.clone(), forms);
            c.abbreviations = us.abbreviations.get(&s.code).cloned().unwrap_or_default();
            self.add(c)?;
        }
        Ok(())
    }

    /// The curated and the other first-level subdivisions (but the US states), as
    /// candidates; those without a usable ISO name are dropped here.
    fn subdivision_candidates(
        &mut self,
        subdivisions: &[&IsoSubdivision],
        cur: &Curated,
    ) -> Res<(Vec<Candidate>, Vec<Candidate>)> {
        for code in cur.subdivision.keys().chain(&cur.skip) {
            if !subdivisions.iter().any(|s| &s.code == code) {
                return Err(format!(
                    "{CURATED}: {code} is no first-level ISO 3166-2 code"
                ));
            }
        }
        let (mut curated, mut regular) = (Vec::new(), Vec::new());
        let wanted = subdivisions
            .iter()
            .filter(|s| !s.code.starts_with("US-") && !cur.skip.contains(&s.code));
        for s in wanted {
            let iso = iso_names(&s.name, &cur.suffixes);
            if let Some(c) = cur.subdivision.get(&s.code) {
                let display = c.name.as_ref().or(iso.first());
                let written = display.into_iter().chain(&c.names);
                let forms = spellings(display.into_iter().chain(&iso).chain(&c.names));
                let country = c.country.as_deref().unwrap_or(&s.code[..2]);
                let exempt = spellings(written);
                let mut candidate = Candidate::new(country, SUBDIVISION, None, forms, exempt);
                candidate.abbreviations = c.abbreviations.clone();
                curated.push(candidate);
            } else if iso.is_empty() {
                let forms = vec![s.name.clone()];
                let c = Candidate::new(&s.code[..2], SUBDIVISION, None, forms, vec![]);
                self.drop(&c, Why::Unusable);
            } else {
                let forms = spellings(&iso);
                regular.push(Candidate::new(
                    &s.code[..2],
                    SUBDIVISION,
                    None,
                    forms,
                    vec![],
                ));
            }
        }
        Ok((curated, regular))
    }

    fn report(&self) {
        let mut kept: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, p) in &self.places {
            *kept.entry(p.kind).or_default() += 1;
        }
        let kept: Vec<String> = kept.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
        eprintln!("kept {}", kept.join(", "));
        let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
        for ((kind, _), list) in &self.dropped {
            *totals.entry(kind).or_default() += list.len();
        }
        let mut last = "";
        for ((kind, why), list) in &self.dropped {
            if *kind != last {
                last = kind;
                eprintln!("dropped {} {kind} candidates:", totals[kind]);
            }
            let examples: Vec<&str> = list.iter().take(4).map(String::as_str).collect();
            eprintln!("  {:5} {why}: {}, ...", list.len(), examples.join(", "));
        }
    }
}

/// The curated and the other GeoNames cities of at least [`MIN_POPULATION`] people, as
/// candidates, largest first.
fn city_candidates(cities: &[City], cur: &Curated) -> Res<(Vec<Candidate>, Vec<Candidate>)> {
    let mut curated = Vec::new();
    let mut ids = HashSet::new();
    for cc in &cur.city {
        let wanted = straighten(&cc.geonames);
        let city = cities
            .iter()
            .find(|c| straighten(&c.name) == wanted && c.country == cc.country)
            .ok_or(format!(
                "{CURATED}: no GeoNames city {:?} in {}",
                cc.geonames, cc.country
            ))?;
        ids.insert(city.geonameid);
        let geonames = city_names(&city.name);
        let display = cc.name.as_deref().unwrap_or(geonames[0]);
        let exempt = spellings(std::iter::once(display).chain(cc.names.iter().map(String::as_str)));
        let all = std::iter::once(display).chain(geonames);
        let forms = spellings(all.chain(cc.names.iter().map(String::as_str)));
        curated.push(Candidate::new(
            &city.country,
            CITY,
            Some(city.population),
            forms,
            exempt,
        ));
    }
    let regular = cities
        .iter()
        .filter(|c| c.population >= MIN_POPULATION)
        .filter(|c| !ids.contains(&c.geonameid))
        .map(|c| {
            let forms = spellings(city_names(&c.name));
            Candidate::new(&c.country, CITY, Some(c.population), forms, vec![])
        })
        .collect();
    Ok((curated, regular))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        let cities = [
            ("Paris", "FR", 2_138_551),
            ("Paris", "US", 25_171),
            ("Hyderabad", "IN", 6_993_262),
            ("Hyderabad", "PK", 1_921_275),
            ("London", "GB", 8_961_989),
            ("London", "CA", 422_324),
            ("Saint Petersburg", "RU", 5_351_935),
            ("St. Petersburg", "US", 257_083),
            ("Ontario", "US", 171_214),
        ];
        let mut index: HashMap<String, Vec<(String, u64)>> = HashMap::new();
        for (name, country, population) in cities {
            let entry = index.entry(key(name)).or_default();
            entry.push((country.to_string(), population));
        }
        let subdivisions = [("Ontario", "CA"), ("Punjab", "IN"), ("Punjab", "PK")];
        let mut subdivision_index: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (name, country) in subdivisions {
            let entry = subdivision_index.entry(key(name)).or_default();
            entry.insert(country.to_string());
        }
        let set = |words: &[&str]| words.iter().map(|w| w.to_string()).collect();
        Rules {
            schema: [("athens", "a form of the country Greece")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            states: [key("Georgia"), key("Florida")].into_iter().collect(),
            stop: [key("Victoria"), key("Córdoba")].into_iter().collect(),
            words: lowercase_words("nice\nsale\nperm\nshanghai\nNancy\nParis's\n"),
            generic: set(&["north", "west", "central", "province"]),
            local_admin: set(&["oblast"]),
            cities: index,
            subdivisions: subdivision_index,
        }
    }

    #[test]
    fn ascii_folding() {
        assert_eq!(fold("São Paulo"), "Sao Paulo");
        assert_eq!(fold("Ḩamāh"), "Hamah");
        assert_eq!(fold("Łódź"), "Lodz");
        assert_eq!(fold("Gəncə"), "Gence");
        assert_eq!(fold("Düsseldorf"), "Dusseldorf");
        assert_eq!(fold("Abū Z\u{327}aby"), "Abu Zaby", "combining cedilla");
        assert_eq!(fold("Xi’an"), "Xi'an");
        assert_eq!(fold("Straße"), "Strasse");
        // the key folds accents and case, and reads "St." as "Saint"
        assert_eq!(key("SÃO PAULO"), key("sao paulo"));
        assert_eq!(key("St. Petersburg"), key("Saint Petersburg"));
        assert_eq!(key("St Louis"), "saint louis");
        assert_eq!(key("Stuttgart"), "stuttgart");
    }

    #[test]
    fn spellings_add_folded_and_saint_forms() {
        assert_eq!(spellings(["São Paulo"]), ["São Paulo", "Sao Paulo"]);
        assert_eq!(spellings(["Lagos"]), ["Lagos"]);
        assert_eq!(spellings(["Xi’an"]), ["Xi'an"], "straight apostrophes");
        assert_eq!(
            spellings(["St. Louis"]),
            ["St. Louis", "Saint Louis", "St Louis"]
        );
        assert_eq!(
            city_names("Donostia / San Sebastián"),
            ["Donostia", "San Sebastián"]
        );
    }

    #[test]
    fn iso_names_are_cleaned() {
        let suffixes = [
            " Sheng".to_string(),
            " Zizhiqu".to_string(),
            " Uygur".to_string(),
        ];
        let names = |raw: &str| iso_names(raw, &suffixes);
        assert_eq!(names("Catalunya [Cataluña]"), ["Catalunya", "Cataluña"]);
        assert_eq!(names("Galicia [Galicia]"), ["Galicia"]);
        assert_eq!(names("Wales [Cymru GB-CYM]"), ["Wales", "Cymru"]);
        assert_eq!(names("Stockholms län [SE-01]"), ["Stockholms län"]);
        assert_eq!(names("Asturias, Principado de"), ["Asturias"]);
        assert_eq!(names("Ilocos (Region I)"), ["Ilocos"]);
        assert_eq!(
            names("Nafarroako Foru Komunitatea*"),
            ["Nafarroako Foru Komunitatea"]
        );
        assert_eq!(names("Anhui Sheng"), ["Anhui"]);
        assert_eq!(names("Xinjiang Uygur Zizhiqu"), ["Xinjiang"]);
        assert_eq!(names("Karbalā’"), ["Karbalā"], "trailing apostrophe");
        assert_eq!(names("‘Adan"), ["Adan"], "leading ayn");
        assert_eq!(names("Amānat al ‘Āşimah [city]"), ["Amānat al 'Āşimah"]);
        assert!(names("wallonne, Région").is_empty());
        assert!(names("Elgeyo/Marakwet").is_empty());
    }

    #[test]
    fn a_name_shared_abroad_stays_with_a_ten_times_larger_city() {
        let r = rules();
        // Paris, France has 85 times the people of Paris, Texas; London 21 times London,
        // Ontario: both keep their names. The smaller ones lose them.
        assert_eq!(r.check("Paris", "FR", Some(2_138_551)), Ok(()));
        assert_eq!(
            r.check("Paris", "US", Some(25_171)),
            Err(Why::City("FR".into(), 2_138_551))
        );
        assert_eq!(r.check("London", "GB", Some(8_961_989)), Ok(()));
        assert!(r.check("London", "CA", Some(422_324)).is_err());
        // Hyderabad, India is only 3.6 times Hyderabad, Pakistan: neither keeps it.
        assert_eq!(
            r.check("Hyderabad", "IN", Some(6_993_262)),
            Err(Why::City("PK".into(), 1_921_275))
        );
        assert!(r.check("Hyderabad", "PK", Some(1_921_275)).is_err());
        // "St." and "Saint" are one name; folding and case do not matter either.
        assert_eq!(r.check("St. Petersburg", "RU", Some(5_351_935)), Ok(()));
        assert!(r.check("Saint Petersburg", "US", Some(257_083)).is_err());
        assert!(r.check("HYDERÁBAD", "IN", Some(6_993_262)).is_err());
        // A subdivision has no population: any foreign city of the name is too many.
        assert_eq!(
            r.check("Ontario", "CA", None),
            Err(Why::City("US".into(), 171_214))
        );
        // A city of the name of a foreign subdivision goes too.
        assert_eq!(
            r.check("Ontario", "US", Some(171_214)),
            Err(Why::Subdivision("CA".into()))
        );
        assert_eq!(
            r.check("Punjab", "IN", None),
            Err(Why::Subdivision("PK".into()))
        );
    }

    #[test]
    fn stop_list_words_and_other_rules() {
        let r = rules();
        assert_eq!(r.check("Victoria", "CA", Some(289_625)), Err(Why::Stop));
        assert_eq!(
            r.check("Cordoba", "AR", Some(2_106_734)),
            Err(Why::Stop),
            "folded"
        );
        // dictionary words: dropped below a million people, kept above
        assert_eq!(r.check("Nice", "FR", Some(342_669)), Err(Why::Word));
        assert_eq!(
            r.check("Salé", "MA", Some(972_299)),
            Err(Why::Word),
            "folded"
        );
        assert_eq!(r.check("Shanghai", "CN", Some(24_874_500)), Ok(()));
        assert_eq!(
            r.check("Shanghai", "CN", None),
            Err(Why::Word),
            "a subdivision"
        );
        // capitalised word-list entries are names, not words
        assert_eq!(r.check("Nancy", "FR", Some(105_058)), Ok(()));
        assert_eq!(r.check("Ufa", "RU", Some(1_120_547)), Err(Why::Short));
        assert_eq!(
            r.check("Athens", "US", Some(127_315)),
            Err(Why::Schema("a form of the country Greece".into()))
        );
        assert_eq!(r.check("Florida", "UY", None), Err(Why::UsState));
        assert_eq!(r.check("Florida", "US", None), Ok(()));
        assert_eq!(r.check("North-West", "ZA", None), Err(Why::Generic));
        assert_eq!(r.check("Central Province", "LK", None), Err(Why::Generic));
        assert_eq!(r.check("North Darfur", "SD", None), Ok(()));
        assert_eq!(r.check("Donetska oblast", "UA", None), Err(Why::LocalAdmin));
        assert_eq!(r.check("Lyon 03", "FR", Some(150_000)), Err(Why::Unusable));
    }

    fn builder() -> Builder {
        let country_keys = [("FR", "France"), ("US", "UnitedStates"), ("CA", "Canada")];
        Builder {
            rules: rules(),
            country_keys: country_keys
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            verbose: false,
            places: Vec::new(),
            claims: HashMap::new(),
            dropped: BTreeMap::new(),
        }
    }

    #[test]
    fn each_name_names_one_place() {
        let mut b = builder();
        let city = |name: &str, country: &str, population| {
            Candidate::new(country, CITY, Some(population), spellings([name]), vec![])
        };
        // Curated names are exempt from the rules and come first.
        let ontario = spellings(["Ontario"]);
        let province = Candidate::new("CA", SUBDIVISION, None, ontario.clone(), ontario);
        assert_eq!(b.add(province), Ok(true));
        assert_eq!(b.add(city("Ontario", "US", 171_214)), Ok(false));
        // The larger city of a country keeps a name; a smaller namesake is merged into it.
        assert_eq!(b.add(city("Springfield", "US", 170_188)), Ok(true));
        assert_eq!(b.add(city("Springfield", "US", 155_000)), Ok(false));
        let dropped = |why: Why| b.dropped.get(&(CITY, why.label())).map(Vec::len);
        assert_eq!(dropped(Why::Subdivision(String::new())), Some(1));
        assert_eq!(dropped(Why::Merged), Some(1));
        // A curated name that another schema file or place already has is an error.
        let athens = spellings(["Athens"]);
        let curated = Candidate::new("US", CITY, Some(127_315), athens.clone(), athens);
        assert!(b.add(curated).unwrap_err().contains("Greece"));
        let springfield = spellings(["Springfield"]);
        let curated = Candidate::new("FR", CITY, Some(1), springfield.clone(), springfield);
        assert!(b.add(curated).unwrap_err().contains("also a place in US"));
        // The kept places and their names
        let names: Vec<(&str, &str)> = b
            .places
            .iter()
            .map(|(_, p)| (p.name.as_str(), p.country.as_str()))
            .collect();
        assert_eq!(
            names,
            [("Ontario", "Canada"), ("Springfield", "UnitedStates")]
        );
    }

    #[test]
    fn accented_names_keep_their_folded_twin() {
        let mut b = builder();
        let forms = spellings(["Besançon"]);
        let c = Candidate::new("FR", CITY, Some(116_466), forms, vec![]);
        assert_eq!(b.add(c), Ok(true));
        let place = &b.places[0].1;
        assert_eq!(place.name, "Besançon");
        assert_eq!(place.names, ["Besancon"]);
        assert_eq!(place.population, Some(116_466));
    }
}
