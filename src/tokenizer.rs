//! Tokenizers: a Hugging Face `tokenizer.json` from a path, or the small built-in tokenizer.
//!
//! In: the scenario's `tokenizer` setting. Out: a [`Tokenizer`] that counts, encodes and
//! decodes tokens, and lists the ids prompts may be drawn from.
//!
//! The built-in tokenizer is a word-level vocabulary of common English words: text made of
//! its words round-trips exactly (decode then encode gives the same ids), which makes it a
//! good default for the embedded server and for tests. It is not a model's tokenizer; give a
//! `tokenizer.json` when lengths must match a real model.

use std::path::Path;

use anyhow::{Context, Result};

/// A loaded tokenizer.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    /// Sorted ids of ordinary (non-special) tokens: what random prompts are made of.
    sample_ids: Vec<u32>,
    name: String,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("name", &self.name)
            .finish()
    }
}

impl Tokenizer {
    /// Load from the scenario setting: `None` or `builtin` is the built-in tokenizer, anything
    /// else a path to a `tokenizer.json` (or a directory holding one).
    pub fn from_setting(setting: Option<&str>) -> Result<Tokenizer> {
        match setting {
            None | Some("builtin") => Ok(Tokenizer::builtin()),
            Some(path) => Tokenizer::from_path(Path::new(path)),
        }
    }

    /// Load a `tokenizer.json`, or the one inside a directory.
    pub fn from_path(path: &Path) -> Result<Tokenizer> {
        let file = if path.is_dir() {
            path.join("tokenizer.json")
        } else {
            path.to_owned()
        };
        if !file.exists() {
            anyhow::bail!(
                "tokenizer {} not found; give a path to a tokenizer.json (or a directory with one), or `builtin`",
                file.display()
            );
        }
        let inner = tokenizers::Tokenizer::from_file(&file)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("cannot load tokenizer {}", file.display()))?;
        Ok(Tokenizer::wrap(inner, file.display().to_string()))
    }

    /// The built-in word-level tokenizer.
    pub fn builtin() -> Tokenizer {
        let mut vocab = serde_json::Map::new();
        vocab.insert("<unk>".into(), 0.into());
        for (i, w) in WORDS.split_whitespace().enumerate() {
            vocab.insert(w.into(), (i + 1).into());
        }
        let json = serde_json::json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": [{
                "id": 0, "content": "<unk>", "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true
            }],
            "normalizer": null,
            "pre_tokenizer": { "type": "Whitespace" },
            "post_processor": null,
            "decoder": null,
            "model": { "type": "WordLevel", "vocab": vocab, "unk_token": "<unk>" }
        });
        let inner = tokenizers::Tokenizer::from_bytes(json.to_string().as_bytes())
            .expect("built-in tokenizer definition is valid");
        Tokenizer::wrap(inner, "builtin".into())
    }

    fn wrap(inner: tokenizers::Tokenizer, name: String) -> Tokenizer {
        let special: std::collections::HashSet<u32> =
            inner.get_added_tokens_decoder().into_keys().collect();
        let mut sample_ids: Vec<u32> = inner
            .get_vocab(false)
            .into_values()
            .filter(|id| !special.contains(id))
            .collect();
        sample_ids.sort_unstable();
        Tokenizer {
            inner,
            sample_ids,
            name,
        }
    }

    /// Where it came from (`builtin` or the file path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Token ids of `text`, without special tokens added.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.inner
            .encode_fast(text, false)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default()
    }

    /// Number of tokens in `text` (no special tokens added).
    pub fn count(&self, text: &str) -> usize {
        self.inner
            .encode_fast(text, false)
            .map(|e| e.len())
            .unwrap_or(0)
    }

    /// Text of `ids`, special tokens kept.
    pub fn decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, false).unwrap_or_default()
    }

    /// Ids of ordinary tokens, sorted: the alphabet random prompts are drawn from.
    pub fn sample_ids(&self) -> &[u32] {
        &self.sample_ids
    }
}

/// The built-in vocabulary: one token per word.
const WORDS: &str = "
the of and to a in is it you that he was for on are with as his they be at one have this
from or had by hot word but what some we can out other were all there when up use your how
said an each she which do their time if will way about many then them write would like so
these her long make thing see him two has look more day could go come did number sound no
most people my over know water than call first who may down side been now find any new work
part take get place made live where after back little only round man year came show every
good me give our under name very through just form sentence great think say help low line
differ turn cause much mean before move right boy old too same tell does set three want air
well also play small end put home read hand port large spell add even land here must big high
such follow act why ask men change went light kind off need house picture try us again animal
point mother world near build self earth father head stand own page should country found answer
school grow study still learn plant cover food sun four between state keep eye never last let
thought city tree cross farm hard start might story saw far sea draw left late run while press
close night real life few north open seem together next white children begin got walk example
ease paper group always music those both mark often letter until mile river car feet care second
book carry took science eat room friend began idea fish mountain stop once base hear horse cut
sure watch color face wood main enough plain girl usual young ready above ever red list though
feel talk bird soon body dog family direct pose leave song measure door product black short
numeral class wind question happen complete ship area half rock order fire south problem piece
told knew pass since top whole king space heard best hour better true during hundred five
remember step early hold west ground interest reach fast verb sing listen six table travel less
morning ten simple several vowel toward war lay against pattern slow center love person money
serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly
fall lead cry dark machine note wait plan figure star box noun field rest correct able pound
done beauty drive stood contain front teach week final gave green oh quick develop ocean warm
free minute strong special mind behind clear tail produce fact street inch multiply nothing
course stay wheel full force blue object decide surface deep moon island foot system busy test
record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape
equate miss brought heat snow tire bring yes distant fill east paint language among grand ball
yet wave drop heart am present heavy dance engine position arm wide sail material size vary
settle speak weight general ice matter circle pair include divide syllable felt perhaps pick
sudden count square reason length represent art subject region energy hunt probable bed brother
egg ride cell believe fraction forest sit race window store summer train sleep prove lone leg
exercise wall catch mount wish sky board joy winter sat written wild instrument kept glass grass
cow job edge sign visit past soft fun bright gas weather month million bear finish happy hope
flower clothe strange gone jump baby eight village meet root buy raise solve metal whether push
seven paragraph third shall held hair describe cook floor either result burn hill safe cat
century consider type law bit coast copy phrase silent tall sand soil roll temperature finger
industry value fight lie beat excite natural view sense capital chair danger fruit rich thick
soldier process operate practice separate difficult doctor please protect noon crop modern
element hit student corner party supply whose locate ring character insect caught period
indicate radio spoke atom human history effect electric expect bone rail imagine provide agree
thus gentle woman captain guess necessary sharp wing create neighbor wash bat rather crowd corn
compare poem string bell depend meat rub tube famous dollar stream fear sight thin triangle
planet hurry chief colony clock mine tie enter major fresh search send yellow gun allow print
dead spot desert suit current lift rose arrive master track parent shore division sheet
substance favor connect post spend chord fat glad original share station dad bread charge
proper bar offer segment slave duck instant market degree populate chick dear enemy reply drink
occur support speech nature range steam motion path liquid log meant quotient teeth shell neck
oxygen sugar death pretty skill women season solution magnet silver thank branch match suffix
especially fig afraid huge sister steel discuss forward similar guide experience score apple
bought led pitch coat mass card band rope slip win dream evening condition feed tool total basic
smell valley nor double seat continue block chart hat sell success company subtract event
particular deal swim term opposite wife shoe shoulder spread arrange camp invent cotton born
determine quart nine truck noise level chance gather shop stretch throw shine property column
molecule select wrong gray repeat require broad prepare salt nose plural anger claim continent
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_round_trips_its_words() {
        let t = Tokenizer::builtin();
        assert!(t.sample_ids().len() > 800, "{}", t.sample_ids().len());
        assert!(!t.sample_ids().contains(&0), "<unk> is special");
        let ids: Vec<u32> = t.sample_ids()[100..140].to_vec();
        let text = t.decode(&ids);
        assert_eq!(t.encode(&text), ids);
        assert_eq!(t.count(&text), 40);
        assert_eq!(t.count(" the server streams"), 3);
    }

    #[test]
    fn builtin_words_are_unique() {
        let words: Vec<&str> = WORDS.split_whitespace().collect();
        let set: std::collections::HashSet<&&str> = words.iter().collect();
        assert_eq!(set.len(), words.len());
    }

    #[test]
    fn missing_file_says_what_to_give() {
        let e = Tokenizer::from_setting(Some("/nonexistent/tok.json")).unwrap_err();
        assert!(
            e.to_string().contains("give a path to a tokenizer.json"),
            "{e}"
        );
    }
}
