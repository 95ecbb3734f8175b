// camtwin Lambert material: vertex colour times hemispheric ambient plus one sun.
//
// Deliberately cheap (no PBR, no shadows, no textures) because the whole frame
// is rasterised on the CPU by lavapipe. Output is linear; the sRGB render
// target encodes it in hardware.
//
// Alpha carries the mesh instance's tag (MeshTag, 0-255) instead of opacity:
// the frame's id buffer, read back with the colour at no extra pass. The
// target is opaque and alpha is linear (sRGB encodes colour only), so the tag
// survives exactly; scenery and the sky carry 0.

#import bevy_pbr::forward_io::VertexOutput
#import bevy_pbr::mesh_functions::get_tag

struct LambertLighting {
    // Unit vector towards the sun, Bevy axes (y up); w unused.
    to_sun: vec4<f32>,
    // Linear RGB sun illuminance; w unused.
    sun_color: vec4<f32>,
    // Linear RGB ambient from the sky (normals pointing up); w unused.
    sky_color: vec4<f32>,
    // Linear RGB ambient from the ground (normals pointing down); w unused.
    ground_color: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> lighting: LambertLighting;

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let n = normalize(in.world_normal);
#ifdef VERTEX_COLORS
    let albedo = in.color.rgb;
#else
    let albedo = vec3<f32>(1.0, 1.0, 1.0);
#endif
    let up = clamp(0.5 * (n.y + 1.0), 0.0, 1.0);
    let ambient = mix(lighting.ground_color.rgb, lighting.sky_color.rgb, up);
    let sun = lighting.sun_color.rgb * max(dot(n, lighting.to_sun.xyz), 0.0);
    let tag = f32(min(get_tag(in.instance_index), 255u)) / 255.0;
    return vec4<f32>(albedo * (ambient + sun), tag);
}
