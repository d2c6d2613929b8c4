// The lifting lug of ../lug2d as a 3D part 10 mm thick, modelled as a quarter: the symmetry
// planes x = 0 and z = 0. Millimetres. Second-order tetrahedra.
//   gmsh lug3d.geo -3 -format msh41 -o lug3d.msh
SetFactory("OpenCASCADE");
w = 20;    // half width
h = 40;    // height of the straight part
r = 8;     // pin hole radius
t = 5;     // half thickness
size = 2;  // 2 mm: the P2 FEM of this mesh is 5e-4 from a 1.5 mm one (3 mm: 1.7e-3)

Box(1) = {0, 0, 0, w, h, t};
Cylinder(2) = {0, h, 0, 0, 0, t, w};
Box(3) = {-w, 0, 0, w, h + w, t};                      // the half x < 0, cut away
Cylinder(4) = {0, h, 0, 0, 0, t, r};                   // the pin hole
BooleanUnion(5) = { Volume{1}; Delete; }{ Volume{2}; Delete; };
BooleanDifference(6) = { Volume{5}; Delete; }{ Volume{3, 4}; Delete; };

eps = 1e-6;
Physical Surface("base") = Surface In BoundingBox{-eps, -eps, -eps, w + eps, eps, t + eps};
Physical Surface("sym") = Surface In BoundingBox{-eps, -eps, -eps, eps, h + w + eps, t + eps};
Physical Surface("mid") = Surface In BoundingBox{-eps, -eps, -eps, w + eps, h + w + eps, eps};
Physical Surface("face") = Surface In BoundingBox{-eps, -eps, t - eps, w + eps, h + w + eps, t + eps};
hole() = Surface In BoundingBox{-eps, h - r - eps, -eps, r + eps, h + r + eps, t + eps};
Physical Surface("hole") = {};
For i In {0 : #hole() - 1}
  com() = CenterOfMass Surface{hole(i)};
  If (com(2) > eps && com(2) < t - eps && com(0) > eps)
    Physical Surface("hole") += {hole(i)};
  EndIf
EndFor
all() = Surface{:};
Physical Surface("edge") = {};
For i In {0 : #all() - 1}
  com() = CenterOfMass Surface{all(i)};
  If (com(1) > eps && com(2) > eps && com(2) < t - eps && com(0) > eps && (com(0) - 0)^2 + (com(1) - h)^2 > (r + 1)^2)
    Physical Surface("edge") += {all(i)};
  EndIf
EndFor
Physical Volume("body") = {6};

Mesh.MeshSizeMax = size;
Mesh.MeshSizeMin = size / 3;
Mesh.MeshSizeFromCurvature = 12;
Mesh.ElementOrder = 2;
Mesh.HighOrderOptimize = 2;
