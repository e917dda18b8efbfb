using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using CoCa.MLNet.Evaluation;

namespace CoCa.MLNet.Cli.Commands;

/// <summary>
/// <c>coca evaluate-captions --references REFS --results RESULTS [--json]</c>: pycocoevalcap's BLEU-1..4, ROUGE-L and
/// CIDEr-D of a model's captions (<see cref="CaptionMetrics"/>).
/// </summary>
internal static class EvaluateCaptionsCommand
{
    private const string CiderNotMeasured = "n/a (one image: CIDEr's weights come from a set of images, so it is 0 for any caption)";
    private const string NotComputed = "METEOR and SPICE are not computed: they need Java and Stanford's models (run pycocoevalcap for them).";

    public static Command Create()
    {
        var references = new Option<string>("--references", "-r")
        {
            Description = "Reference captions: COCO captions JSON ({\"images\", \"annotations\": [{\"image_id\", \"caption\"}]}) or JSON Lines {\"input\", \"references\": [...]}",
            Required = true,
        }.Existing("a references file (COCO captions JSON, or JSON Lines {\"input\", \"references\"})");
        var results = new Option<string>("--results")
        {
            Description = "The model's captions: COCO results JSON ([{\"image_id\", \"caption\"}]) or the JSON Lines 'coca caption --out' writes",
            Required = true,
        }.Existing("a results file (COCO results JSON, or the JSON Lines that coca caption writes)");
        var json = new Option<bool>("--json") { Description = "Print one JSON object keyed by pycocoevalcap's names (Bleu_1 ... CIDEr) instead of text" };
        var command = new Command("evaluate-captions", "pycocoevalcap's caption metrics (BLEU-1..4, ROUGE-L, CIDEr-D) of captions against references")
        {
            references, results, json,
        };
        command.SetAction(parse =>
        {
            var scores = CaptionMetrics.Compute(parse.GetValue(references)!, parse.GetValue(results)!);
            var byName = scores.ByName();
            if (parse.GetValue(json))
            {
                var o = new JsonObject();
                // A CIDEr that is 0 for any caption (one image) is null, as evaluate-pairs' unmeasurable recalls are.
                foreach (var (name, value) in byName) o[name] = name == "CIDEr" && !scores.CiderIsMeasured ? null : value;
                o["images"] = scores.Images;
                o["references"] = scores.References;
                o["not_computed"] = new JsonArray("METEOR", "SPICE");
                Console.WriteLine(o.ToJsonString());
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"images      {scores.Images}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"references  {scores.References}"));
                foreach (var (name, value) in byName)
                    Console.WriteLine(name == "CIDEr" && !scores.CiderIsMeasured
                        ? $"{name,-11} {CiderNotMeasured}"
                        : string.Create(CultureInfo.InvariantCulture, $"{name,-11} {value:F4}"));
                Console.WriteLine(NotComputed);
            }
            return 0;
        });
        return command;
    }
}
