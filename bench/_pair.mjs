import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { timePaired, wt, peersDir, randomFloats } from './common.mjs';
const which=process.argv[2]||'c4', be=process.argv[3]||'wasm';
const ort = await import(be==='wasm'?'onnxruntime-web':'onnxruntime-node'); if(be==='wasm') ort.env.wasm.numThreads=2;
const f=readdirSync(peersDir).find(n=>n.startsWith(`conv2d_${which}`)&&n.endsWith('.onnx')).replace('.onnx','');
const { tensors, metadata } = wt.loadSafetensors(new Uint8Array(readFileSync(path.join(peersDir, `${f}.weights.safetensors`))));
const c = JSON.parse(metadata.config); const shape=[c.N,c.channels,c.H,c.W];
const x=new wt.Tensor(randomFloats(shape.reduce((a,b)=>a*b,1),1),shape);
await wt.init({backend:be,threads:2});
const o={stride:c.stride,padding:c.padding,groups:c.groups}; const y=wt.conv2d(x,tensors.weight,tensors.bias,o);
const ours=()=>wt.conv2d(x,tensors.weight,tensors.bias,{...o,out:y});
const mp=path.join(peersDir, `${f}.onnx`);
const s=await ort.InferenceSession.create(be==='wasm'?readFileSync(mp):mp,be==='wasm'?{executionProviders:['wasm']}:{intraOpNumThreads:2,interOpNumThreads:1});
const input={[s.inputNames[0]]:new ort.Tensor('float32',x.data,shape)}; const peer=()=>s.run(input);
const sleep=(ms)=>new Promise(r=>setTimeout(r,ms));
for(let r=0;r<3;r++){
 const a=(await timePaired([ours],12))[0], b=(await timePaired([peer],12))[0];
 console.log('alone', a.toFixed(2), b.toFixed(2), (b/a).toFixed(2));
 const [p,q]=await timePaired([ours,peer],12); console.log('paired', p.toFixed(2), q.toFixed(2), (q/p).toFixed(2));
 const [p2,q2]=await timePaired([async()=>{await sleep(30); return ours();}, async()=>{await sleep(30); return peer();}],12,1);
 console.log('paired sleep30 (includes 30)', (p2-30).toFixed(2), (q2-30).toFixed(2));
}
process.exit(0);
