//! InfluxQL's math functions (`abs`, `sin`, … `round`): scalar functions of a row's values or
//! of a bucket's aggregate results, in the SELECT list and in WHERE conditions, as InfluxDB 1.x
//! has them (its `query/math.go`): their arity, the argument types they accept, and their
//! answers (the rounding functions and `abs` keep integers; the others answer floats; a
//! non-numeric value answers null).

use crate::query::result::Value;

/// A math function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFn {
    Abs,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Atan2,
    Exp,
    Log,
    Ln,
    Log2,
    Log10,
    Sqrt,
    Pow,
    Floor,
    Ceil,
    Round,
}

/// The type of a math function's argument, as far as the planner knows it (1.x's data types;
/// `Unknown` passes every check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    Float,
    Integer,
    Unsigned,
    String,
    Boolean,
    Tag,
    Unknown,
}

impl ArgType {
    /// 1.x's name of the type, as its errors print it.
    pub fn name(self) -> &'static str {
        match self {
            ArgType::Float => "float",
            ArgType::Integer => "integer",
            ArgType::Unsigned => "unsigned",
            ArgType::String => "string",
            ArgType::Boolean => "boolean",
            ArgType::Tag => "tag",
            ArgType::Unknown => "unknown",
        }
    }

    fn is_numeric(self) -> bool {
        matches!(
            self,
            ArgType::Float | ArgType::Integer | ArgType::Unsigned | ArgType::Unknown
        )
    }
}

impl MathFn {
    /// Every math function, in the order of the enum.
    pub const ALL: [MathFn; 18] = [
        MathFn::Abs,
        MathFn::Sin,
        MathFn::Cos,
        MathFn::Tan,
        MathFn::Asin,
        MathFn::Acos,
        MathFn::Atan,
        MathFn::Atan2,
        MathFn::Exp,
        MathFn::Log,
        MathFn::Ln,
        MathFn::Log2,
        MathFn::Log10,
        MathFn::Sqrt,
        MathFn::Pow,
        MathFn::Floor,
        MathFn::Ceil,
        MathFn::Round,
    ];

    /// The function of this name (case-insensitive, as InfluxQL's function names are).
    pub fn from_name(name: &str) -> Option<MathFn> {
        MathFn::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            MathFn::Abs => "abs",
            MathFn::Sin => "sin",
            MathFn::Cos => "cos",
            MathFn::Tan => "tan",
            MathFn::Asin => "asin",
            MathFn::Acos => "acos",
            MathFn::Atan => "atan",
            MathFn::Atan2 => "atan2",
            MathFn::Exp => "exp",
            MathFn::Log => "log",
            MathFn::Ln => "ln",
            MathFn::Log2 => "log2",
            MathFn::Log10 => "log10",
            MathFn::Sqrt => "sqrt",
            MathFn::Pow => "pow",
            MathFn::Floor => "floor",
            MathFn::Ceil => "ceil",
            MathFn::Round => "round",
        }
    }

    /// How many arguments it takes: `atan2(y, x)`, `pow(x, y)` and `log(x, base)` two, the
    /// others one.
    pub fn arity(self) -> usize {
        match self {
            MathFn::Atan2 | MathFn::Pow | MathFn::Log => 2,
            _ => 1,
        }
    }

    /// 1.x's type check of the arguments: numbers (or what the planner cannot type), except
    /// that `asin` and `acos` take floats only. The error is 1.x's text.
    pub fn check_args(self, args: &[ArgType]) -> Result<(), String> {
        let ordinal = ["first", "second"];
        for (i, arg) in args.iter().enumerate().take(self.arity()) {
            let accepted = match self {
                MathFn::Asin | MathFn::Acos => matches!(arg, ArgType::Float | ArgType::Unknown),
                _ => arg.is_numeric(),
            };
            if !accepted {
                return Err(format!(
                    "invalid argument type for the {} argument in {}(): {}",
                    ordinal[i],
                    self.name(),
                    arg.name()
                ));
            }
        }
        Ok(())
    }

    /// The function of one value (`second` for the two-argument functions). A value that is
    /// not a number answers null, as in 1.x.
    pub fn apply(self, first: &Value, second: Option<&Value>) -> Value {
        let float = |v: &Value| match v {
            Value::Float(x) => Some(*x),
            Value::Integer(x) => Some(*x as f64),
            Value::Unsigned(x) => Some(*x as f64),
            _ => None,
        };
        // abs and the rounding functions keep integers.
        let keeping_integers = |on_float: fn(f64) -> f64, on_integer: fn(i64) -> i64| match first {
            Value::Float(x) => Value::Float(on_float(*x)),
            Value::Integer(x) => Value::Integer(on_integer(*x)),
            Value::Unsigned(x) => Value::Unsigned(*x),
            _ => Value::Null,
        };
        let unary = |f: fn(f64) -> f64| float(first).map_or(Value::Null, |x| Value::Float(f(x)));
        let binary = |f: fn(f64, f64) -> f64| match (float(first), second.and_then(float)) {
            (Some(x), Some(y)) => Value::Float(f(x, y)),
            _ => Value::Null,
        };
        match self {
            // i64::MIN has no absolute value in i64: it stays itself (two's complement).
            MathFn::Abs => keeping_integers(f64::abs, i64::wrapping_abs),
            MathFn::Floor => keeping_integers(f64::floor, |x| x),
            MathFn::Ceil => keeping_integers(f64::ceil, |x| x),
            // Half away from zero, as 1.x's round.
            MathFn::Round => keeping_integers(f64::round, |x| x),
            MathFn::Sin => unary(f64::sin),
            MathFn::Cos => unary(f64::cos),
            MathFn::Tan => unary(f64::tan),
            MathFn::Asin => unary(f64::asin),
            MathFn::Acos => unary(f64::acos),
            MathFn::Atan => unary(f64::atan),
            MathFn::Exp => unary(f64::exp),
            MathFn::Ln => unary(f64::ln),
            MathFn::Log2 => unary(f64::log2),
            MathFn::Log10 => unary(f64::log10),
            MathFn::Sqrt => unary(f64::sqrt),
            MathFn::Atan2 => binary(f64::atan2),
            MathFn::Pow => binary(f64::powf),
            // log(x, base) = ln(x) / ln(base), as 1.x computes it.
            MathFn::Log => binary(|x, base| x.ln() / base.ln()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> Value {
        Value::Float(x)
    }

    #[test]
    fn every_function_is_found_by_its_name_in_any_case() {
        for func in MathFn::ALL {
            assert_eq!(MathFn::from_name(func.name()), Some(func));
            assert_eq!(
                MathFn::from_name(&func.name().to_ascii_uppercase()),
                Some(func)
            );
        }
        assert_eq!(MathFn::from_name("mean"), None);
        assert_eq!(MathFn::from_name("absolute"), None);
    }

    #[test]
    fn abs_and_rounding_keep_integers_the_others_answer_floats() {
        let i = Value::Integer;
        assert_eq!(MathFn::Abs.apply(&i(-5), None), i(5));
        assert_eq!(MathFn::Abs.apply(&i(i64::MIN), None), i(i64::MIN));
        assert_eq!(MathFn::Abs.apply(&f(-2.5), None), f(2.5));
        assert_eq!(
            MathFn::Abs.apply(&Value::Unsigned(7), None),
            Value::Unsigned(7)
        );
        assert_eq!(MathFn::Floor.apply(&i(-3), None), i(-3));
        assert_eq!(MathFn::Floor.apply(&f(-2.5), None), f(-3.0));
        assert_eq!(MathFn::Ceil.apply(&f(-2.5), None), f(-2.0));
        // Half away from zero.
        assert_eq!(MathFn::Round.apply(&f(2.5), None), f(3.0));
        assert_eq!(MathFn::Round.apply(&f(-2.5), None), f(-3.0));
        assert_eq!(MathFn::Round.apply(&f(2.49), None), f(2.0));
        assert_eq!(MathFn::Sqrt.apply(&i(16), None), f(4.0));
        assert_eq!(MathFn::Pow.apply(&i(2), Some(&i(10))), f(1024.0));
        assert_eq!(MathFn::Log.apply(&f(8.0), Some(&f(2.0))), f(3.0));
        assert_eq!(MathFn::Log10.apply(&i(1000), None), f(3.0));
        assert_eq!(MathFn::Log2.apply(&i(1024), None), f(10.0));
        assert_eq!(MathFn::Ln.apply(&f(1.0), None), f(0.0));
        assert_eq!(MathFn::Exp.apply(&i(0), None), f(1.0));
        assert_eq!(MathFn::Sin.apply(&i(0), None), f(0.0));
        assert_eq!(MathFn::Cos.apply(&i(0), None), f(1.0));
        assert_eq!(MathFn::Tan.apply(&i(0), None), f(0.0));
        assert_eq!(
            MathFn::Asin.apply(&f(1.0), None),
            f(std::f64::consts::FRAC_PI_2)
        );
        assert_eq!(MathFn::Acos.apply(&f(1.0), None), f(0.0));
        assert_eq!(
            MathFn::Atan.apply(&f(1.0), None),
            f(std::f64::consts::FRAC_PI_4)
        );
        assert_eq!(
            MathFn::Atan2.apply(&f(1.0), Some(&f(1.0))),
            f(std::f64::consts::FRAC_PI_4)
        );
    }

    #[test]
    fn what_is_not_a_number_answers_null() {
        for func in MathFn::ALL {
            let other = Value::Integer(2);
            assert_eq!(
                func.apply(&Value::string("a"), Some(&other)),
                Value::Null,
                "{}",
                func.name()
            );
            assert_eq!(func.apply(&Value::Boolean(true), Some(&other)), Value::Null);
            assert_eq!(func.apply(&Value::Null, Some(&other)), Value::Null);
        }
        assert_eq!(
            MathFn::Pow.apply(&Value::Integer(2), Some(&Value::Null)),
            Value::Null
        );
        assert_eq!(MathFn::Pow.apply(&Value::Integer(2), None), Value::Null);
    }

    #[test]
    fn argument_types_are_checked_with_1x_wording() {
        assert_eq!(MathFn::Sin.check_args(&[ArgType::Integer]), Ok(()));
        assert_eq!(MathFn::Sin.check_args(&[ArgType::Unknown]), Ok(()));
        assert_eq!(
            MathFn::Sin.check_args(&[ArgType::String]).unwrap_err(),
            "invalid argument type for the first argument in sin(): string"
        );
        assert_eq!(
            MathFn::Asin.check_args(&[ArgType::Integer]).unwrap_err(),
            "invalid argument type for the first argument in asin(): integer"
        );
        assert_eq!(MathFn::Acos.check_args(&[ArgType::Float]), Ok(()));
        assert_eq!(
            MathFn::Pow
                .check_args(&[ArgType::Float, ArgType::Boolean])
                .unwrap_err(),
            "invalid argument type for the second argument in pow(): boolean"
        );
        assert_eq!(
            MathFn::Abs.check_args(&[ArgType::Tag]).unwrap_err(),
            "invalid argument type for the first argument in abs(): tag"
        );
    }
}
