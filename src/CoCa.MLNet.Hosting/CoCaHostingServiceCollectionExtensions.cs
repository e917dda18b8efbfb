using Microsoft.Extensions.Logging;
using CoCa.MLNet.Hosting;

// Service registration lives in Microsoft.Extensions.DependencyInjection, as ASP.NET Core's own does, so
// `builder.Services.AddCoCaPredictionEnginePool<...>(...)` needs no extra using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary><c>services.AddCoCaPredictionEnginePool&lt;TInput, TOutput&gt;(path)</c>.</summary>
public static class CoCaHostingServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="CoCaPredictionEnginePool{TInput, TOutput}"/> over the SaveCoCa file
    /// <paramref name="modelPath"/>, loaded once, when first resolved (resolve it at start-up to load it then).
    /// </summary>
    public static IServiceCollection AddCoCaPredictionEnginePool<TInput, TOutput>(this IServiceCollection services, string modelPath,
        Action<CoCaPredictionEnginePoolOptions>? configure = null)
        where TInput : class
        where TOutput : class, new()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        return services.AddCoCaPredictionEnginePool<TInput, TOutput>((_, options) =>
        {
            options.ModelPath = modelPath;
            configure?.Invoke(options);
        });
    }

    /// <summary>
    /// Registers the pool with options made when it is first resolved, from the services (e.g. the model path from
    /// <c>IConfiguration</c>).
    /// </summary>
    public static IServiceCollection AddCoCaPredictionEnginePool<TInput, TOutput>(this IServiceCollection services,
        Action<IServiceProvider, CoCaPredictionEnginePoolOptions> configure)
        where TInput : class
        where TOutput : class, new()
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSingleton(provider =>
        {
            var options = new CoCaPredictionEnginePoolOptions
            {
                Logger = provider.GetService<ILoggerFactory>()?.CreateLogger(typeof(CoCaPredictionEnginePool<TInput, TOutput>).FullName ?? "CoCa.MLNet.Hosting"),
            };
            configure(provider, options);
            return new CoCaPredictionEnginePool<TInput, TOutput>(options);
        });
        return services;
    }
}
