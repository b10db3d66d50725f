using System.Text.RegularExpressions;

namespace Cd4ml.Runtime.Events;

/// <summary>Masks values of obvious credential assignments (<c>password=…</c>, <c>token: …</c>) in event messages.</summary>
public static partial class EventMessageSanitizer
{
    public static string Sanitize(string message) => CredentialAssignment().Replace(message, "$1$2***");

    [GeneratedRegex(
        @"(?i)\b((?:[a-z0-9_-]*[_-])?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|credentials?))(\s*[=:]\s*)(?:""[^""]*""|'[^']*'|[^\s,;&]+)")]
    private static partial Regex CredentialAssignment();
}
