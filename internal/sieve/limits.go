package sieve

// Limits, with Pigeonhole's defaults. Settings of the same names in Env.Config
// (sieve_max_actions, sieve_max_redirects, sieve_max_script_size) override
// the defaults; these constants are also the hard ceilings.
const (
	MaxScriptSize      = 1 << 20 // sieve_max_script_size
	MaxActions         = 32      // sieve_max_actions
	MaxRedirects       = 4       // sieve_max_redirects
	MaxIncludeNesting  = 10      // sieve_include_max_nesting_depth
	MaxIncludes        = 255     // sieve_include_max_includes
	MaxVariables       = 255     // sieve_variables_max_scope_size
	MaxVariableSize    = 4096    // sieve_variables_max_variable_size
	MaxMatchValues     = 32      // ${0} .. ${31}
	MaxLoopNesting     = 4       // foreverypart nesting
	MaxRegexLen        = 4096    // one :regex key
	MaxHeaderValueSize = 2048    // sieve_editheader_max_header_size default
	MaxNotifications   = 12      // sieve_notify_max_notifications default
	MaxRuntimeSteps    = 1 << 22 // commands and tests evaluated in one run
)
