//! Sweep axes and the load values they hold: a request rate (a number or `inf`) and a
//! concurrency cap (`0` = none). An axis is written as one value or a list of values.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Scenario;

/// One value or a list of values; each entry is one point of a sweep axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Axis<T> {
    /// A single value.
    One(T),
    /// Several values, swept in order.
    Many(Vec<T>),
}

impl<T: Default> Default for Axis<T> {
    fn default() -> Self {
        Axis::One(T::default())
    }
}

impl<T> Axis<T> {
    /// The axis as a slice of its points.
    pub fn values(&self) -> &[T] {
        match self {
            Axis::One(v) => std::slice::from_ref(v),
            Axis::Many(v) => v,
        }
    }
}

impl<T: JsonSchema> JsonSchema for Axis<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Axis_of_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<T>();
        json_schema!({
            "anyOf": [one, { "type": "array", "items": one, "minItems": 1 }]
        })
    }
}

/// A request rate in requests per second; `inf` sends every request at once.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Rate {
    /// A finite rate (> 0).
    PerSecond(f64),
    /// No pacing: all requests are due at the start.
    #[default]
    Infinite,
}

impl Rate {
    /// The rate as a float (`f64::INFINITY` for `inf`).
    pub fn as_f64(self) -> f64 {
        match self {
            Rate::PerSecond(r) => r,
            Rate::Infinite => f64::INFINITY,
        }
    }

    /// The rate as bench_serving prints it (Python's `str(float)`): `8.0`, `2.5`, `inf`.
    pub fn python_str(self) -> String {
        match self {
            Rate::Infinite => "inf".into(),
            Rate::PerSecond(r) if r.fract() == 0.0 && r.abs() < 1e16 => format!("{r:.1}"),
            Rate::PerSecond(r) => format!("{r}"),
        }
    }
}

impl fmt::Display for Rate {
    /// Compact form used in run ids: `8`, `2.5`, `inf`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::PerSecond(r) => write!(f, "{r}"),
            Rate::Infinite => f.write_str("inf"),
        }
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Rate::PerSecond(r) => s.serialize_f64(*r),
            Rate::Infinite => s.serialize_str("inf"),
        }
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(r) if r.is_infinite() && r > 0.0 => Ok(Rate::Infinite),
            Raw::Num(r) if r > 0.0 && r.is_finite() => Ok(Rate::PerSecond(r)),
            Raw::Num(r) => Err(serde::de::Error::custom(format!(
                "request rate must be > 0 or \"inf\", got {r}"
            ))),
            Raw::Str(s) if s == "inf" => Ok(Rate::Infinite),
            Raw::Str(s) => Err(serde::de::Error::custom(format!(
                "request rate must be a number or \"inf\", got \"{s}\""
            ))),
        }
    }
}

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Requests per second (> 0), or \"inf\" to send all requests at once.",
            "anyOf": [
                { "type": "number", "exclusiveMinimum": 0 },
                { "const": "inf" }
            ]
        })
    }
}

/// A cap on requests in flight; `0` (the default) means no cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Concurrency(pub u32);

impl Concurrency {
    /// The cap, or `None` when unlimited.
    pub fn limit(self) -> Option<u32> {
        (self.0 > 0).then_some(self.0)
    }
}

impl fmt::Display for Concurrency {
    /// Compact form used in run ids: `64`, or `none` when unlimited.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limit() {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("none"),
        }
    }
}

impl JsonSchema for Concurrency {
    fn schema_name() -> Cow<'static, str> {
        "Concurrency".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Maximum requests in flight; 0 means no limit.",
            "type": "integer",
            "minimum": 0,
            "maximum": 4294967295u32
        })
    }
}

/// Length of each sweep axis, named by its scenario path.
fn axes(s: &Scenario) -> [(&'static str, usize); 4] {
    [
        ("targets", s.targets.len()),
        ("datasets", s.datasets.len()),
        ("load.request_rate", s.load.request_rate.values().len()),
        (
            "load.max_concurrency",
            s.load.max_concurrency.values().len(),
        ),
    ]
}

/// Number of runs a zip sweep has, or the axes whose lengths disagree.
pub fn zip_len(s: &Scenario) -> Result<usize, Vec<(&'static str, usize)>> {
    let long: Vec<(&'static str, usize)> = axes(s).into_iter().filter(|(_, l)| *l > 1).collect();
    match long.first() {
        None => Ok(1),
        Some((_, n)) if long.iter().all(|(_, l)| l == n) => Ok(*n),
        Some(_) => Err(long),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_prints_like_python_floats() {
        assert_eq!(Rate::PerSecond(8.0).python_str(), "8.0");
        assert_eq!(Rate::PerSecond(2.5).python_str(), "2.5");
        assert_eq!(Rate::Infinite.python_str(), "inf");
        assert_eq!(Rate::PerSecond(8.0).to_string(), "8");
    }

    #[test]
    fn rate_parses_numbers_and_inf() {
        let r: Vec<Rate> = serde_json::from_str(r#"[1, 2.5, "inf"]"#).unwrap();
        assert_eq!(
            r,
            vec![Rate::PerSecond(1.0), Rate::PerSecond(2.5), Rate::Infinite]
        );
        assert!(serde_json::from_str::<Rate>("0").is_err());
        assert!(serde_json::from_str::<Rate>(r#""fast""#).is_err());
    }

    #[test]
    fn axis_accepts_one_or_many() {
        let a: Axis<Concurrency> = serde_json::from_str("4").unwrap();
        assert_eq!(a.values(), &[Concurrency(4)]);
        let a: Axis<Concurrency> = serde_json::from_str("[0, 8]").unwrap();
        assert_eq!(a.values()[0].limit(), None);
        assert_eq!(a.values()[1].to_string(), "8");
    }
}
