//! Latin transliteration of names written in Cyrillic, and the loose search
//! key that lets `Рахимов`, `RAKHIMOV` and `Rahimov` find one another.
//!
//! The table is the Cyrillic table of ICAO Doc 9303 *Machine Readable Travel
//! Documents*, Part 3, section 6 (8th edition, 2021), which is what the
//! Russian, Kyrgyz and Tajik passport offices print in the Latin line of a
//! passport. ICAO's table does not cover letters used only in Central Asian
//! alphabets; for those mhis uses the letter of the national Latin
//! alphabet (Tajik `Ғ`→`GH`, `Қ`→`Q`, `Ҳ`→`H`, `Ҷ`→`J`, `Ӯ`→`U`, `Ӣ`→`I`;
//! Kyrgyz/Kazakh `Ң`→`NG`, `Ү`→`U`, `Ө`→`O`, `Ә`→`A`, `Һ`→`H`).
//! Each such entry is marked below.

/// The ICAO 9303 Latin rendering of one upper-case Cyrillic letter, or `None`
/// when the character is not Cyrillic. `Ь` maps to the empty string, as in
/// ICAO 9303.
fn latin_of(upper: char) -> Option<&'static str> {
    Some(match upper {
        'А' => "A",
        'Б' => "B",
        'В' => "V",
        'Г' => "G",
        'Ґ' => "G",
        'Д' => "D",
        'Ѓ' => "G",
        'Ђ' => "D",
        'Е' => "E",
        'Ё' => "E",
        'Є' => "IE",
        'Ж' => "ZH",
        'З' => "Z",
        'Ѕ' => "DZ",
        'И' => "I",
        'І' => "I",
        'Ї' => "I",
        'Й' => "I",
        'Ј' => "J",
        'К' => "K",
        'Л' => "L",
        'Љ' => "LJ",
        'М' => "M",
        'Н' => "N",
        'Њ' => "NJ",
        'О' => "O",
        'П' => "P",
        'Р' => "R",
        'С' => "S",
        'Т' => "T",
        'Ћ' => "C",
        'Ќ' => "K",
        'У' => "U",
        'Ў' => "U",
        'Ф' => "F",
        'Х' => "KH",
        'Ц' => "TS",
        'Ч' => "CH",
        'Џ' => "DZ",
        'Ш' => "SH",
        'Щ' => "SHCH",
        'Ъ' => "IE",
        'Ы' => "Y",
        'Ь' => "",
        'Э' => "E",
        'Ю' => "IU",
        'Я' => "IA",
        // Not in ICAO 9303: national Latin alphabets (see module docs).
        'Ғ' => "GH",
        'Қ' => "Q",
        'Ҳ' => "H",
        'Ҷ' => "J",
        'Ӯ' => "U",
        'Ӣ' => "I",
        'Ң' => "NG",
        'Ү' => "U",
        'Ө' => "O",
        'Ә' => "A",
        'Һ' => "H",
        _ => return None,
    })
}

/// Whether `text` contains any Cyrillic letter.
pub fn has_cyrillic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0400}'..='\u{052F}').contains(&c))
}

/// Transliterates Cyrillic letters by ICAO 9303 and leaves everything else
/// as it is. Case follows the source: an upper-case letter followed by a
/// lower-case one gives a capitalised digraph (`Хуршед` → `Khurshed`), an
/// upper-case letter in an upper-case word gives an upper-case digraph
/// (`ХУРШЕД` → `KHURSHED`).
pub fn to_latin(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let upper = c.to_uppercase().next().unwrap_or(c);
        let Some(latin) = latin_of(upper) else {
            out.push(c);
            continue;
        };
        if !c.is_uppercase() {
            out.push_str(&latin.to_lowercase());
            continue;
        }
        // An upper-case letter: all caps when the word is all caps.
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let prev_lower = i > 0 && chars[i - 1].is_lowercase();
        if next_lower || prev_lower {
            let mut it = latin.chars();
            if let Some(first) = it.next() {
                out.push(first);
                out.push_str(&it.as_str().to_lowercase());
            }
        } else {
            out.push_str(latin);
        }
    }
    out
}

/// The loose key names are searched by: transliterated, upper-cased,
/// letters only, with spelling variants that different offices use for the
/// same sound folded together (`KH`/`H`, `IU`/`YU`/`U`, `IA`/`YA`/`A`
/// after a vowel-like glide, `IE`/`YE`/`E`, `Y`/`I`, `J`/`DZH`).
///
/// The key is for *finding* candidates only, never for deciding that two
/// records are one person: it deliberately over-matches.
pub fn search_key(text: &str) -> String {
    let latin = to_latin(text).to_uppercase();
    let letters: String = latin
        .chars()
        .filter(|c| c.is_ascii_alphabetic() || c.is_whitespace())
        .collect();
    let mut key = letters.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        ("DZH", "J"),
        ("KH", "H"),
        ("YU", "U"),
        ("IU", "U"),
        ("YA", "A"),
        ("IA", "A"),
        ("YE", "E"),
        ("IE", "E"),
        ("Y", "I"),
    ] {
        key = key.replace(from, to);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icao_9303_examples() {
        assert_eq!(to_latin("Рахимов"), "Rakhimov");
        assert_eq!(to_latin("РАХИМОВ"), "RAKHIMOV");
        assert_eq!(to_latin("Щукин"), "Shchukin");
        assert_eq!(to_latin("Юлия"), "Iuliia");
        assert_eq!(to_latin("Ольга"), "Olga");
        assert_eq!(to_latin("Шухрат"), "Shukhrat");
        assert_eq!(to_latin("Царёв"), "Tsarev");
        assert_eq!(to_latin("Подъячев"), "Podieiachev");
        assert_eq!(to_latin("Крылов"), "Krylov");
    }

    #[test]
    fn central_asian_letters() {
        assert_eq!(to_latin("Ҷӯраев"), "Juraev");
        assert_eq!(to_latin("Қодиров"), "Qodirov");
        assert_eq!(
            to_latin("Ғафуров"),
            "Gafurov".replacen("G", "Gh", 1).as_str()
        );
    }

    #[test]
    fn latin_is_unchanged() {
        assert_eq!(to_latin("Rakhimov-Smith"), "Rakhimov-Smith");
    }

    #[test]
    fn search_key_folds_variants() {
        assert_eq!(search_key("Рахимов"), search_key("Rahimov"));
        assert_eq!(search_key("Юсупов"), search_key("Yusupov"));
        assert_eq!(search_key("Юсупов"), search_key("IUSUPOV"));
        assert_eq!(search_key("Джураев"), search_key("Juraev"));
        assert_eq!(search_key("  Ali   Vali "), "ALI VALI");
    }
}
