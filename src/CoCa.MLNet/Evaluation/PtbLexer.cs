using System.Text;
using System.Text.RegularExpressions;

namespace CoCa.MLNet.Evaluation;

/// <summary>
/// The Penn Treebank tokenization that pycocoevalcap runs before scoring captions: Stanford CoreNLP 3.4.1's
/// <c>PTBTokenizer</c> (a JFlex lexer, <c>PTBLexer.flex</c>) with its default options. Re-expressed as a table of rules in
/// the lexer's own order, each a regular expression with an optional trailing context; at each position the rule of
/// the longest match wins (trailing context counted, as JFlex counts it), the earlier rule on a tie. Tokens come out in
/// the lexer's spelling ("-LRB-", "``", "n't"), not yet lower-cased.
/// </summary>
/// <remarks>
/// Left out, as rare in captions: SGML tags with attributes (SENTEND's SGML case is approximated by '&lt;'), the
/// "Asian" smileys (^_^), the strictTreebank3 state. Letters, digits and case are .NET's Unicode classes. Each line is
/// read alone: where PTB's trailing context would reach into the next line of pycocoevalcap's file, the line is taken
/// to end with "\n" and nothing after it.
/// </remarks>
internal static class PtbLexer
{
    private delegate string? Emit(string text);

    /// <param name="Pattern">\G(?&lt;m&gt;main)(trailing context).</param>
    /// <param name="Token">The token for the main match, or null for none.</param>
    /// <param name="Consumed">Characters of the main match the rule takes (the rest is read again); null: all of them.</param>
    private sealed record Rule(Regex Pattern, Emit Token, Func<string, int>? Consumed = null);

    // The lexer's macros (PTBLexer.flex). %caseless applies to literal text, not to character classes: (?i:...) wraps
    // the literal parts only.
    private const string Letter = @"[\p{L}\p{M}\u00AD]";
    private const string Digit = @"\p{Nd}";
    private const string LetterOrDigit = @"[\p{L}\p{M}\u00AD\p{Nd}]";
    private const string JavaLetterOrDigit = @"[\p{L}\p{Nd}]";
    private const string Word = Letter + LetterOrDigit + "*(?:[.!?]" + Letter + LetterOrDigit + "*)*";
    private const string Apos = @"(?:['\u0092\u2019]|&(?i:apos);)";
    private const string AposEtc = "(?:" + Apos + @"|[`\u0091\u2018\u201B])";
    private const string Redaux = Apos + "(?:[msdMSD]|(?i:re|ve|ll))";
    private const string Sword = @"[A-Za-z\u00AD]*[A-MO-Za-mo-z]\u00AD*";
    private const string Sredaux = "(?i:n)" + AposEtc + "(?i:t)";
    private const string Space = @"[ \t\u00A0\u2000-\u200A\u3000]";
    private const string Newline = @"(?:\r\n|[\r\n\u2028\u2029\u000B\u000C\u0085])";
    private const string SpaceNl = "(?:" + Space + "|" + Newline + ")";
    private const string SentEnd = SpaceNl + @"(?:" + SpaceNl + @"|\p{Lu}|<)";
    private const string Num = "(?:" + Digit + @"*(?:[.:,\u00AD\u066B\u066C]" + Digit + "+)+|" + Digit + "+)";
    private const string ThingPart = "(?:[dDoOlL]" + AposEtc + JavaLetterOrDigit + ")?" + JavaLetterOrDigit + "+";
    private const string Thing = ThingPart + @"(?:[-_\u058A\u2010\u2011]" + ThingPart + ")*";
    private const string ThingA = @"[A-Z]+(?:(?:[+&]|&(?i:amp);)[A-Z]+)+";
    private const string Acro = @"(?:(?i:canada|sino|korean|eu|japan|non)-(?i:u\.s)|(?i:u\.s\.-)(?i:u\.s\.s\.r|u\.k)|[A-Za-z](?:\.[A-Za-z])*)";
    private const string Acro2 = @"(?:(?i:canada|sino|korean|eu|japan|non)-(?i:u\.s)|(?i:u\.s\.-)(?i:u\.s\.s\.r|u\.k)|[A-Za-z](?:\.[A-Za-z])+)";
    private const string HThing = @"[A-Za-z0-9][A-Za-z0-9.,\u00AD]*(?:-(?:" + Acro2 + @"\.|[A-Za-z0-9\u00AD]+))+";
    private const string InSentP = @"[,;:\u3001]";

    private const string AbState = "(?i:ala|ariz)|A(?i:z)|A(?i:rk)|(?i:calif|colo|conn|ct|dak)|D(?i:el)|(?i:fla|ga)|I(?i:ll)|(?i:ind|kans?|ky)"
        + "|L(?i:a)|M(?i:ass)|(?i:md|mich|minn)|M(?i:iss)|(?i:mo|mont|neb|nev|okla)|O(?i:re)|P(?i:a)|(?i:penn|tenn)|T(?i:ex)|(?i:va|vt)|W(?i:ash)|(?i:wisc?|wyo)";
    private const string Abbrev1 = "(?:(?i:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)|(?i:mon|tues?|wed|thurs|thu|fri)|" + AbState
        + "|(?i:inc|cos?|corp)|(?i:pp?t)[ye](?i:s)?|(?i:ltd|plc|rt|bancorp|bhd|assn|univ|intl|sys)|(?i:tel|est|ext|sq)"
        + @"|(?i:jr|sr|bros|(?:ed|ph)\.d|blvd|rd|esq)|(?i:etc|al|seq|bldg))\.";
    private const string AbTitle = "(?i:mrs?|ms)|M(?i:iss)|(?i:drs?|profs?|sens?|reps?|attys?|lt|col|gen|messrs|govs?|adm|rev|maj|sgt|cpl|pvt|capt|ste?"
        + "|ave|pres|lieut|hon|brig|co?mdr|pfc|spc|supts?|det|mt|ft|adj|adv|asst|assoc|ens|insp|mlle|mme|msgr|sfc)";
    private const string Abbrev4 = "(?:" + AbTitle + @"|(?i:vs|alex|wm|jos|cie|a\.k\.a|cf|treas|ph)|" + Acro + "|(?i:invt|elec|natl)|(?i:m)[ft](?i:g)|(?i:dept))";
    private const string AcronymFollowers = @"A(?i:bout|ccording|dditionally|fter|n|s|t)?|B(?i:ut)|E(?i:arlier)|H(?i:e|er|ere|owever)|I(?i:f|n|t)"
        + @"|L(?i:ast)|M(?i:any|ore|r\.|s\.)|N(?i:ow)|O(?i:nce|ne|ther|ur)|S(?i:he|ince|o|ome|uch)|T(?i:hat|he|heir|hen|here|hese|hey|his)"
        + "|W(?i:e|hen|hile|hat)|Y(?i:et|ou)";
    private const string FileNameExt = "(?i:bat|bmp|c|class|cgi|cpp|dll|doc|docx|exe|gif|gz|h|htm|html|jar|java|jpeg|jpg|mov|mp3|pdf|php|pl|png|ppt|ps|py|sql|tar|txt|wav|x|xml|zip)";
    private const string Phone = @"(?:(?:\([0-9]{2,3}\)[ \u00A0]?|(?:\+\+?)?(?:[0-9]{2,4}[\- \u00A0])?[0-9]{2,4}[\- \u00A0])[0-9]{3,4}[\- \u00A0]?[0-9]{3,5}"
        + @"|(?:(?:\+\+?)?[0-9]{2,4}\.)?[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{3,5})";
    private const string MiscSymbol = @"[+%&~\^|\\\u00A6\u00A7\u00A8\u00A9\u00AC\u00AE\u00AF\u00B0-\u00B3\u00B4-\u00BA\u00D7\u00F7\u0387\u05BE\u05C0\u05C3\u05C6"
        + @"\u05F3\u05F4\u0600-\u0603\u0606-\u060A\u060C\u0614\u061B\u061E\u066A\u066D\u0703-\u070D\u07F6\u07F7\u07F8\u0964\u0965\u0E4F\u1FBD\u2016\u2017"
        + @"\u2020-\u2023\u2030-\u2038\u203B\u203E-\u2042\u2044\u207A-\u207F\u208A-\u208E\u2100-\u214F\u2190-\u21FF\u2200-\u2BFF\u3012\u30FB\uFF01-\uFF0F"
        + @"\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65]";

    private static readonly Rule[] Rules =
    [
        R(@"(?i:c)\+\+"),
        R("[cCfF]#"),
        R("(?i:cannot)", consumed: _ => 3),
        R("'(?i:twas)", consumed: _ => 2),
        R("'(?i:tis)", consumed: _ => 2),
        R("(?i:gonna|gotta|lemme|gimme|wanna)", consumed: t => t.Length - 2),
        R(@"<(?:[!?][A-Za-z\-][^>\r\n]*|[A-Za-z][A-Za-z0-9_:.\-]*[ ]*/?|/[A-Za-z][A-Za-z0-9_:.\-]*)[ ]*>", t => t.Replace(' ', '\u00A0')),
        R(@"&(?i:md|mdash|ndash);|[\u0096\u0097\u2013\u2014\u2015]", _ => "--"),
        R("&(?i:amp);", NormalizeAmp),
        R("&(?:(?i:ht|tl|ur|lr|qc|ql|qr|odq|cdq)|#[0-9]+);"),
        R(Word, RemoveSoftHyphens, trailing: Redaux),
        R(Sword, RemoveSoftHyphens, trailing: Sredaux),
        R(Word, RemoveSoftHyphens),
        R(Apos + "(?i:n)" + Apos + "?|[lLdDjJ]" + Apos + "|(?i:dunkin|somethin|ol)" + Apos + "|" + Apos + "(?i:em)|[A-HJ-XZn]" + AposEtc + @"\p{L}{2,}"
          + "|" + Apos + "[2-9]0(?i:s)|" + Apos + "(?i:till?)|" + @"\p{L}+[aeiouyAEIOUY]" + AposEtc + @"[aeiouA-Z]\p{L}*|" + Apos + "(?i:cause)"
          + @"|(?i:cont'd\.?|'twas|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l)|(?i:o)" + AposEtc + "(?i:o)"),
        R("(?i:y)" + Apos, trailing: @"\p{L}"),
        R(@"(?i:https?)://[^ \t\n\f\r""<>|(){}]+[^ \t\n\f\r""<>|.!?(){},-]"),
        R(@"(?:(?:(?i:www)\.(?:[^ \t\n\f\r""<>|.!?(){},]+\.)+[a-zA-Z]{2,4})|(?:(?:[^ \t\n\f\r""`'<>|.!?(){},-_$]+\.)+(?i:com|net|org|edu)))"
          + @"(?:/[^ \t\n\f\r""<>|()]+[^ \t\n\f\r""<>|.!?(){},-])?"),
        R(@"(?:&(?i:lt);|<)?[a-zA-Z0-9][^ \t\n\f\r""<>|()\u00A0{}]*@(?:[^ \t\n\f\r""<>|(){}.\u00A0]+\.)*(?:[^ \t\n\f\r""<>|(){}.\u00A0]+)(?:&(?i:gt);|>)?"),
        R(@"@[a-zA-Z_][a-zA-Z_0-9]*|#" + Letter + "+"),
        R(Redaux, t => LatexQuotes(t, probablyLeft: false), trailing: "[^A-Za-z]"),
        R(Sredaux, t => LatexQuotes(t, probablyLeft: false), trailing: "[^A-Za-z]"),
        R(Digit + "{1,2}[-/]" + Digit + "{1,2}[-/]" + Digit + "{2,4}"),
        R(@"[\-+]?" + Num, RemoveSoftHyphens),
        R(@"[\u207A\u207B\u208A\u208B]?(?:[\u2070\u00B9\u00B2\u00B3\u2074-\u2079]+|[\u2080-\u2089]+)"),
        R("(?:" + Digit + @"{1,4}[- \u00A0])?" + Digit + @"{1,4}(?:\\?/|\u2044)" + Digit + "{1,4}", t => t.Replace(' ', '\u00A0')),
        R(@"[\u00BC\u00BD\u00BE\u2153-\u215E]", NormalizeFraction),
        R(@"-(?i:rrb|lrb|rcb|lcb|rsb|lsb)-|(?i:c\.d\.s|pro-|anti-|s(?:&|&amp;)p-500|s(?:&|&amp;)ls)|(?i:cap)" + Apos + "(?i:n)|(?i:c)" + Apos + "(?i:est)", NormalizeAmp),
        R(@"[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\?/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}"),
        R(@"[A-Z]*\$|#"),
        R(@"[\u00A2\u00A3\u00A4\u00A5\u0080\u20A0\u20AC\u060B\u0E3F\u20A4\uFFE0\uFFE1\uFFE5\uFFE6]", NormalizeCurrency),
        // An acronym before a word that usually starts a sentence ends it: "I." gives "I" and "."; "U.S." gives "U.S." and ".".
        R(Acro + @"\.", trailing: SpaceNl + "+(?:" + AcronymFollowers + ")" + SpaceNl, consumed: t => t.Length == 2 ? 1 : t.Length - 1,
          token: t => t.Length == 2 ? t[..1] : t),
        R(@"(?i:ca|figs?|prop|nos?|art|bldg|pp|op)\.", trailing: SpaceNl + "?" + Digit),
        R(@"(?i:pt[ey]|co)\.", trailing: Space + "(?i:ltd|lim)"),
        // Abbreviations like "Inc." and "etc.": the word keeps its period (before a sentence end the lexer also gives a "."
        // token, which pycocoevalcap removes).
        R(Abbrev1, trailing: SentEnd),
        R(Abbrev1, trailing: @"[\s\S]{2}"),
        R(Abbrev1),
        R(Abbrev4 + @"\."),
        R(Abbrev4, trailing: Space),
        R(Acro, trailing: SpaceNl),
        R(Apos + "[0-9][0-9]", trailing: SpaceNl),
        R(LetterOrDigit + @"+(?:\." + LetterOrDigit + @"+)*\." + FileNameExt, trailing: "(?:" + SpaceNl + "|[.?!,])"),
        R(Word + @"\.", RemoveSoftHyphens, trailing: InSentP),
        R(Phone, t => t.Replace(' ', '\u00A0').Replace("(", "-LRB-").Replace(")", "-RRB-")),
        R(@"""|&(?i:quot);", t => LatexQuotes(t, probablyLeft: true), trailing: "[A-Za-z0-9$]"),
        R(@"""|&(?i:quot);", t => LatexQuotes(t, probablyLeft: false)),
        R(@"\x7f", _ => null),
        R("<|&(?i:lt);", _ => "<"),
        R(">|&(?i:gt);", _ => ">"),
        R(@"[<>]?[:;=][\-o*']?[()DPdpO\\{@|\[\]]", t => t.Replace("(", "-LRB-").Replace(")", "-RRB-"), trailing: "[^A-Za-z0-9]"),
        R(@"\{", _ => "-LCB-"),
        R(@"\}", _ => "-RCB-"),
        R(@"\[", _ => "-LSB-"),
        R(@"\]", _ => "-RSB-"),
        R(@"\(", _ => "-LRB-"),
        R(@"\)", _ => "-RRB-"),
        R(@"-+", t => t.Length is 3 or 4 ? "--" : t),
        R(@"\.{3,5}|(?:\.[ \u00A0]){2,4}\.|[\u0085\u2026]", _ => "..."),
        R("@+|#+|_+"),
        R(@"\*+|(?:\\\*){1,3}"),
        R(InSentP),
        R("[?!]+"),
        R(@"[.\u00A1\u00BF\u037E\u0589\u061F\u06D4\u0700-\u0702\u07FA\u3002]"),
        R("="),
        R("/"),
        R(HThing + @"\.", RemoveSoftHyphens, trailing: InSentP),
        R(HThing, RemoveSoftHyphens),
        R(Thing + @"\.", trailing: InSentP),
        R(Thing),
        R(ThingA + @"\.", NormalizeAmp, trailing: InSentP),
        R(ThingA, NormalizeAmp),
        R("'", t => LatexQuotes(t, probablyLeft: true), trailing: @"[A-Za-z][^ \t\n\r\u00A0]"),
        R(Redaux, t => LatexQuotes(t, probablyLeft: false)),
        R(Sredaux, t => LatexQuotes(t, probablyLeft: false)),
        R(@"''|[`\u2018\u2019\u201A\u201B\u201C\u201D\u0091\u0092\u0093\u0094\u201E\u201F\u2039\u203A\u00AB\u00BB]{1,2}|" + Apos,
          t => LatexQuotes(t, probablyLeft: false)),
        R("<<|>>"),
        R(MiscSymbol),
        // Spaces, newlines, zero-width characters and &nbsp; separate tokens; any other character (an emoji, a control
        // character) is "untokenizable" and dropped, as the lexer's default (firstDelete) does.
        R(@"\0|" + Space + @"+|[\u200B\u200E\u200F\uFEFF]|" + Newline + "|&(?i:nbsp);", _ => null),
        R(@"[\s\S]", _ => null),
    ];

    /// <summary>The PTB tokens of one line of text, in the lexer's spelling.</summary>
    public static List<string> Tokenize(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var tokens = new List<string>();
        int position = 0;
        while (position < line.Length)
        {
            if (line[position] is ' ' or '\n')
            {
                position++; // no rule but the white-space one starts with these
                continue;
            }
            int fast = FastTokenLength(line, position);
            if (fast > 0)
            {
                tokens.Add(line.Substring(position, fast));
                position += fast;
                continue;
            }
            Rule? best = null;
            Match? bestMatch = null;
            foreach (var rule in Rules)
            {
                var m = rule.Pattern.Match(line, position);
                if (m.Success && m.Length > 0 && (bestMatch is null || m.Length > bestMatch.Length))
                {
                    best = rule;
                    bestMatch = m;
                }
            }
            var text = bestMatch!.Groups["m"].Value;
            var token = best!.Token(text);
            if (token is not null) tokens.Add(token);
            position += best.Consumed?.Invoke(text) ?? text.Length;
        }
        return tokens;
    }

    /// <summary>
    /// A fast path for what most captions are made of, where every rule of the table agrees, so it need not be tried: a
    /// run of ASCII letters followed by a space or the line end, or by ',' or ';' and then a space or the line end, or by
    /// the caption's final '.' (spaces may follow) when the run is no abbreviation or acronym; and ',' ';' or the final '.'
    /// themselves.
    /// Runs the table splits ("cannot", "gonna") are left to it. The length of the token at <paramref name="position"/>,
    /// or 0 to use the table.
    /// </summary>
    private static int FastTokenLength(string line, int position)
    {
        char c = line[position];
        if (c is ',' or ';') return IsBreak(line, position + 1) ? 1 : 0;
        if (c == '.') return OnlySpacesToLineEnd(line, position + 1) ? 1 : 0;
        int end = position;
        while (end < line.Length && char.IsAsciiLetter(line[end])) end++;
        if (end == position) return 0;
        if (end - position is 5 or 6 && Splits.Contains(line[position..end])) return 0;
        if (IsBreak(line, end)) return end - position;
        if (line[end] is ',' or ';' && IsBreak(line, end + 1)) return end - position;
        if (line[end] == '.' && OnlySpacesToLineEnd(line, end + 1) && !AbbreviationOrAcronym.IsMatch(line[position..(end + 1)]))
            return end - position;
        return 0;
    }

    private static bool IsBreak(string line, int index) => index == line.Length || line[index] is ' ' or '\n';

    private static bool OnlySpacesToLineEnd(string line, int index)
    {
        while (index < line.Length && line[index] == ' ') index++;
        return index < line.Length && line[index] == '\n';
    }

    private static readonly Regex AbbreviationOrAcronym = new("^(?:" + Abbrev1 + "|" + Abbrev4 + @"\.)$", RegexOptions.CultureInvariant);

    private static readonly HashSet<string> Splits = new(["cannot", "gonna", "gotta", "lemme", "gimme", "wanna"], StringComparer.OrdinalIgnoreCase);

    /// <param name="main">The text the rule matches.</param>
    /// <param name="token">The token for the main match (null: none); default: the consumed text.</param>
    /// <param name="trailing">Trailing context: must follow, counts toward the match's length, is not consumed.</param>
    /// <param name="consumed">Characters of the main match taken; the rest is read again (JFlex's yypushback).</param>
    private static Rule R(string main, Emit? token = null, string trailing = "", Func<string, int>? consumed = null) =>
        new(new Regex(@"\G(?<m>" + main + ")" + (trailing.Length > 0 ? "(?:" + trailing + ")" : ""), RegexOptions.CultureInvariant),
            token ?? (consumed is null ? t => t : t => t[..consumed(t)]), consumed);

    // A soft hyphen (U+00AD) is taken as inserted for line breaking.
    private static string RemoveSoftHyphens(string s)
    {
        if (!s.Contains('\u00AD')) return s;
        var removed = s.Replace("\u00AD", "");
        return removed.Length == 0 ? "-" : removed;
    }

    private static string NormalizeAmp(string s) => Regex.Replace(s, "&amp;", "&", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static string NormalizeFraction(string s) => s switch
    {
        "\u00BC" => "1/4",
        "\u00BD" => "1/2",
        "\u00BE" => "3/4",
        "\u2153" => "1/3",
        "\u2154" => "2/3",
        _ => s,
    };

    private static string NormalizeCurrency(string s) => s switch
    {
        "\u00A2" => "cents",
        "\u00A3" => "#",
        "\u0080" or "\u00A4" or "\u20A0" or "\u20AC" => "$",
        _ => s,
    };

    /// <summary>PTB's quotes: ` and `` open, ' and '' close (the lexer's latexQuotes, its default).</summary>
    private static string LatexQuotes(string s, bool probablyLeft)
    {
        var sb = new StringBuilder(Regex.Replace(s, "&apos;|'", probablyLeft ? "`" : "'"));
        var t = Regex.Replace(sb.ToString(), "\"|&quot;", probablyLeft ? "``" : "''");
        sb.Clear();
        foreach (var c in t)
        {
            sb.Append(c switch
            {
                '\u0091' or '\u2018' or '\u201B' or '\u2039' => "`",
                '\u0092' or '\u2019' or '\u203A' => "'",
                '\u0093' or '\u201C' or '\u00AB' => "``",
                '\u0094' or '\u201D' or '\u00BB' => "''",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }
}
