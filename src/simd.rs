//! Plain loops compiled a second time for wider vector registers, and the
//! run-time choice between the two. The binary targets baseline x86-64
//! (SSE2), so a loop the compiler vectorizes gets 128-bit registers unless
//! a function is compiled for a wider feature. Both builds run the same
//! operations on each value, with no fused multiply-add, so they give the
//! same bits; the tests that use this check so bit for bit.

/// Defines `fn NAME(ARGS) -> RET` that calls `BODY(ARGS)` compiled for
/// `FEATURE` (an `is_x86_feature_detected!` name) where the CPU has it, and
/// the baseline `BODY` otherwise. `wide WIDE` gives the feature's version
/// explicitly (a `#[target_feature]` function with the same results) when
/// the compiler's own vectorization of `BODY` falls short. `"WIDER" or
/// "FEATURE"` compiles `BODY` for both and takes the wider where the CPU
/// has it.
macro_rules! wider_where_available {
    ($wider:tt or $feature:tt, $(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?)
        $(-> $ret:ty)? = $body:path) => {
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            $crate::simd::wider_where_available!(
                $wider, fn wider_or($($arg: $ty),*) $(-> $ret)? = narrower, wide $body
            );
            $crate::simd::wider_where_available!(
                $feature, fn narrower($($arg: $ty),*) $(-> $ret)? = $body
            );
            wider_or($($arg),*)
        }
    };
    ($feature:tt, $(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?)
        $(-> $ret:ty)? = $body:path) => {
        $crate::simd::wider_where_available!(
            $feature, $(#[$attr])* $vis fn $name($($arg: $ty),*) $(-> $ret)? = $body, wide $body
        );
    };
    ($feature:tt, $(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?)
        $(-> $ret:ty)? = $body:path, wide $wide:path) => {
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!($feature) {
                #[target_feature(enable = $feature)]
                fn wide($($arg: $ty),*) $(-> $ret)? {
                    $wide($($arg),*)
                }
                // SAFETY: the CPU has the feature `wide` is compiled for.
                return unsafe { wide($($arg),*) };
            }
            $body($($arg),*)
        }
    };
}

pub(crate) use wider_where_available;
